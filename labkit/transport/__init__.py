"""Exchange 2010 transport servers: receive and send connectors, queues, routing, NDRs, logs and mailboxes."""
