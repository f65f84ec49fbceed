"""03-send-connector: the message waits in a queue; the Internet send connector on mail.contoso.com."""

from tools.nbbuild import code, md

PATH = "notebooks/03-send-connector.ipynb"

CELLS = [
    md("""
    # 03 · The send connector

    **What you will learn**

    - how a **transport server (传输服务器)** decides where a message for another
      organisation goes: its **send connectors (发送连接器)** and their address spaces;
    - how to read a **queue (发送队列)** and the messages in it;
    - how to create the Internet send connector (in the New Send Connector wizard or with
      one line of code), and what happens to the waiting message next.

    This is step 3 of the write-up: *创建邮件路由"发送连接器"*.
    """),
    code("""
    import labkit
    import pandas as pd
    pd.options.display.max_colwidth = None  # show long texts (errors, log lines) in full
    """),
    md("Start the lab at step 3: A and MX records are on the public DNS."),
    code("lab = labkit.start(step=3)\nlab"),
    md("""
    ## The failure: the message stays in the queue

    As in the write-up, contoso sends allen a message again — *结果还是停留在exchange的发送队列中*,
    it stays in Exchange's queue:
    """),
    code("""
    mid = lab.send_mail("contoso@contoso.com", "allen@xutonglin.com", "Hello again", "Hi Allen, second try.")
    lab.settle()
    lab.mailbox("allen@xutonglin.com")
    """),
    code("""
    contoso = lab.server("mail.contoso.com")
    contoso.get_queue()[["Identity", "DeliveryType", "Status", "MessageCount", "LastError"]]
    """),
    md("`Get-Message` lists the messages in a queue — here, ours:"),
    code('contoso.get_message("MAIL\\\\Unreachable")[["Identity", "FromAddress", "Status", "Subject", "Recipients"]]'),
    md("""
    The same in the console's **Queue Viewer**: the queues, the messages in them, and the
    actions (Retry, Suspend, Remove). Keep it open: after the fix, press *Refresh*.
    """),
    code("""
    from labkit.widgets import QueueViewer

    QueueViewer(lab, "mail.contoso.com")
    """),
    md("""
    ## Why

    The DNS records are all there now, but contoso's transport server still has *no
    route out of the organisation*: *缺少邮件路由*. Exchange 2010 routes a message to a
    domain it does not own through a **send connector (发送连接器)** whose **address
    space** covers the recipient's domain — `xutonglin.com`, or `*` for every domain. It
    has none:
    """),
    code("contoso.get_send_connector()"),
    md("""
    So the message is parked in the **Unreachable** queue. Exchange 2010 has no send
    connector to the internet out of the box: an administrator creates one, which is
    what the write-up does in the Exchange Management Console's wizard.

    ## The fix: create the Internet send connector

    **With the console.** The New Send Connector wizard, page by page:

    1. *Introduction* — Name `Internet`, intended use **Internet**;
    2. *Address space* — *Add...* `*` (every domain), cost 1;
    3. *Network settings* — *Use domain name system (DNS) "MX" records to route mail
       automatically*;
    4. *Source Server* — `MAIL` (mail.contoso.com);
    5. *New Connector* — *New*; the *Completion* page shows the command it ran.
    """),
    code("""
    from labkit.widgets import NewSendConnectorWizard

    NewSendConnectorWizard(lab, server="mail.contoso.com")
    """),
    md("""
    **With the Exchange Management Shell.** The product's documented form (`%%ems
    mail.contoso.com` runs the cell in the shell of contoso's server; below PowerShell's
    output is the Python call that does the same,
    `contoso.new_send_connector("Internet", ["*"], usage="Internet")`). Use the wizard
    *or* this cell, or the Python call: the second would fail, the connector exists.
    """),
    code("""
    %%ems mail.contoso.com
    New-SendConnector -Name "Internet" -Usage Internet -AddressSpaces "*" -SourceTransportServers MAIL
    """, tags=["fix"]),
    md("## Check"),
    code('lab.check("send-connector")', tags=["check"]),
    md("""
    ## Verify: the message leaves the Unreachable queue

    A new route means the messages in Unreachable are routed again (*resubmitted*). Let
    the mail move, then look at the queues:
    """),
    code("""
    lab.settle()
    contoso.get_queue()[["Identity", "DeliveryType", "Status", "MessageCount", "NextHopDomain"]]
    """),
    md("""
    Unreachable is gone; a **delivery queue** `MAIL\\1` for the next hop `xutonglin.com`
    took the message (DeliveryType `DnsConnectorDelivery`: routed by MX records). It is
    empty again: the message left. If a message ever stays in Unreachable after you fix
    the routing, resubmit it yourself:
    `contoso.retry_queue("MAIL\\\\Unreachable", resubmit=True)` (`Retry-Queue -Resubmit $true`).

    > *The lab's choice:* the lab resubmits Unreachable at once when a connector is
    > created; real Exchange 2010 does it when it next reloads its routing table, or
    > when you run `Retry-Queue -Resubmit`.

    ## The next failure

    Did allen get it? No:
    """),
    code('lab.mailbox("allen@xutonglin.com")'),
    md("Instead, contoso got a message back — a **non-delivery report (NDR)**:"),
    code('lab.mailbox("contoso@contoso.com").messages[["From", "Subject", "Message-ID"]]'),
    code("""
    ndr = lab.mailbox("contoso@contoso.com").message(0)
    print(ndr.get_body(("plain",)).get_content())
    """),
    md("""
    This time contoso's server did everything right: it found `mail.xutonglin.com`
    through the MX and A records, connected to 100.100.100.254, and TMG passed the
    connection on to the server inside. But `mail.xutonglin.com` answered
    `530 5.7.1 Client was not authenticated` — a permanent (5xx) refusal — so contoso
    gave up and sent the NDR. Message tracking on contoso tells the same story:

    > *The lab's choice:* the NDR's friendly sentences follow Exchange 2010's layout but
    > their exact wording is not confirmed; the reply `530 5.7.1 Client was not
    > authenticated` is the product's own.
    """),
    code('contoso.get_message_tracking_log()[["EventId", "Source", "Recipients", "RecipientStatus", "MessageId"]]'),
    md("""
    `FAIL` with the 530, then `DSN` (the NDR generated) and `DELIVER` (the NDR put in
    contoso's mailbox). `lab.path` puts the logs of every component together into the
    path the message took, hop by hop, and where it stopped:
    """),
    code("lab.path(mid)"),
    md("""
    Routing, MX lookup, the connection, TMG's publishing: all ✔ now. Why xutonglin
    refuses a server that connects without logging in is the next notebook.

    ## Summary

    - A **transport server (传输服务器)** routes mail for other domains through a **send
      connector (发送连接器)** whose address space covers the domain; with none, the
      message waits in **Unreachable**.
    - The Internet send connector: address space `*`, intended use Internet, route by
      DNS MX records.
    - Creating it resubmits Unreachable; the message moves to a delivery queue for
      `xutonglin.com`, is sent — and now fails at the far end with `530 5.7.1`, which
      comes back to contoso as an NDR.

    **Next:** `04-anonymous-receive.ipynb` — let the internet's servers in.

    ## Exercises

    1. Create the connector with address space `xutonglin.net` instead of `*` (start
       again with `lab = labkit.start(step=3)`). Where does the message go, and what does
       `lab.check("send-connector")` say?
    2. With the `Internet` connector in place, change it to route through a smart host:
       `contoso.set_send_connector("Internet", dns_routing=False, smart_hosts=["100.100.100.254"])`.
       Send again. Is the MX record still used?
    3. `contoso.get_protocol_log("send")[["event", "data"]]` shows contoso's side of the
       SMTP session. Find the line where it gave up.
    """),
]
