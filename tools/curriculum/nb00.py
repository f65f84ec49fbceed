"""00-start-here: how internet mail travels, the lab, how to use it."""

from tools.nbbuild import code, md

PATH = "notebooks/00-start-here.ipynb"

CELLS = [
    md("""
    # 00 · Start here: how internet mail travels

    **What you will learn**

    - how a message gets from one organisation to another across the internet;
    - what the lab is made of: its networks, hosts and addresses;
    - how to start, look at, reset and stop the lab, and how to read its tables;
    - how the lab's consoles (widgets) and the equivalent Python calls relate.

    This curriculum recreates, step by step, a hands-on write-up (in Chinese) called
    *Exchange Server 2010 公网的邮件收发* — "sending and receiving mail over the public
    internet with Exchange Server 2010". Everything here is real on the wire: a DNS
    server answering real DNS packets, two mail servers speaking real SMTP, a firewall
    relaying real TCP — all on your own machine.
    """),
    md("""
    ## How internet mail travels

    1. The sender writes to `allen@xutonglin.com`. Their mail program hands the message
       to **their own organisation's mail server**, where it waits in a **queue (队列)**.
    2. That server must find **the recipient's mail server**. It asks the **public DNS
       (公网DNS)**:
       - an **MX record (邮件交换器记录)** maps the part after the `@` (`xutonglin.com`)
         to the name of the server that takes mail for it (`mail.xutonglin.com`);
       - a **host A record (主机A记录)** maps that name to a public IP address.

       So: `xutonglin.com` —MX→ `mail.xutonglin.com` —A→ `100.100.100.254`.
    3. It connects to that address on **port 25** and hands the message over with
       **SMTP**. Between two organisations nobody logs in: the connection is
       **anonymous (匿名)**.
    4. The recipient's server puts the message into the recipient's **mailbox**, where
       they read it.

    In the lab each of those steps is something you configure, and each one, missing,
    stops the mail in its own way. The notebooks show the failure first, then why, then
    the fix.
    """),
    md("""
    ## The lab

    Two organisations and the internet between them:

    - **contoso.com** — its Exchange 2010 server `mail.contoso.com` sits straight on the internet;
    - **xutonglin.com** — its Exchange 2010 server `mail.xutonglin.com` sits on an internal
      network, behind a **Forefront TMG** firewall that **publishes (发布)** it to the internet
      on 100.100.100.254, port 25, and lets it out for SMTP and DNS (this was set up in the
      author's previous article, so the lab starts with it in place);
    - **the public DNS server** 100.100.100.2, "the internet's DNS";
    - **your own machine**, an internet client at 100.100.100.100.

    Start the lab. `labkit.start()` returns when every server is listening.
    """),
    code("""
    import labkit

    lab = labkit.start()
    lab
    """),
    md("""
    The picture of the lab (JupyterLab draws it; other frontends show an SVG or a text
    version of the same drawing):
    """),
    code("lab.topology()"),
    md("""
    The same as a table. The host numbers the original write-up leaves open
    (contoso's server, xutonglin's server, TMG's inside, your machine) are the lab's choice.
    """),
    code("lab.hosts()"),
    md("""
    ### How to read the tables

    Everything the lab shows you is a **pandas DataFrame** with fixed columns, oldest
    first where rows are events: the DNS query log (`lab.dns.queries()`), TMG's log
    (`lab.tmg.log()`), a server's queues (`lab.server("mail.contoso.com").get_queue()`)
    and logs. Column names are Exchange's own (`Identity`, `Status`, `LastError`...), so
    what you learn here reads the same on a real server. Times are in UTC; in these
    notebooks they print as `TIMESTAMP` when checked.

    ### Real on the wire

    The addresses above are *virtual*: every service really listens on `127.0.0.1` on a
    port your computer picked. `lab.endpoints()` lists them, so you can point your own
    tools at the lab — for example `dig @127.0.0.1 -p PORT mail.xutonglin.com` at the DNS
    server, or `swaks --server 127.0.0.1:PORT` at TMG's published port 25. Connections
    from outside the lab appear as your machine, 100.100.100.100. (The real port numbers
    change every time; in checked output they print as `127.0.0.1:PORT`.)
    """),
    code("lab.endpoints()"),
    md("""
    ### The public DNS, as the lab starts

    At the start only the two zones exist, each with its SOA and NS records — no A,
    no MX. Step 1 adds the A records.
    """),
    code("lab.dns.records()"),
    code("lab.nslookup(\"mail.contoso.com\")"),
    md("""
    `nslookup` prints what Windows' nslookup prints: the server (`UnKnown` because the
    DNS server's address has no reverse record) and the answer — here, that the name
    does not exist yet.

    ### Consoles and code

    The write-up's author worked in consoles: DNS Manager, the Exchange Management
    Console. The lab has the same consoles as widgets (`labkit.widgets`), and every
    action they offer is one Python call, which the widget shows after it runs — like
    the Exchange console shows the shell command it ran. You can always use either:
    the call does exactly what the click does.

    Here is DNS Manager for the public DNS. Try it: pick the zone `contoso.com`, press
    *New Host (A)...*, type the name `www` and the address `100.100.100.10`, and press
    *Add Host*. Under the console appears **Equivalent API call** with the line of Python
    it ran, and a button to copy it.
    """),
    code("""
    from labkit.widgets import DnsManager

    dns = DnsManager(lab, zone="contoso.com")
    dns
    """),
    md("""
    A console's fields and buttons can also be worked from code — which is how the tests
    of the lab check the consoles. Filling in the dialog and pressing *Add Host* this way
    does what your click does, and `last_call` is the line the console shows:
    """),
    code("""
    dns.host_name.value, dns.host_ip.value = "www", "100.100.100.10"
    dns.add_host_button.click()
    dns.last_call
    """),
    md("""
    (If you already added `www` by hand, the console says so: *already exists*.) Pasting
    that line into a cell does exactly the same — which is why every step in these
    notebooks is **also** a code cell: the code cells are what runs when the notebooks are
    checked, where nobody clicks. The console's status line and the record list:
    """),
    code("dns.status_text"),
    code('lab.dns.records("contoso.com")[["Zone", "Name", "Type", "Data"]]'),
    md("""
    The other consoles work the same way: `NewSendConnectorWizard`,
    `ReceiveConnectorProperties`, `QueueViewer`, `MessageTracking` and `MailboxView`,
    each showing the `lab.server(...)` or `lab` call it makes.

    ### Start, reset, stop

    - `lab = labkit.start()` starts a fresh lab at step 1; running the cell again
      replaces the running lab, so re-running a notebook never fails.
    - `labkit.start(step=3)` starts a lab with the steps before 3 already done: each
      notebook starts its own lab at its step.
    - `lab.stop()` stops every server and frees every port; a lab is also stopped when
      the kernel exits.
    """),
    code("lab.stop()\nlab"),
    md("""
    ## Summary

    - Mail goes: sender → own server's queue → (DNS: MX, then A) → recipient's server on
      port 25, anonymously → mailbox.
    - The lab runs two Exchange servers, a public DNS and a TMG firewall, for real, on
      your machine.
    - Tables are DataFrames with Exchange's column names; pictures show the topology and,
      later, the path each message took.

    **Next:** `01-a-records.ipynb` — add the A records.

    ## Exercises

    1. Start a lab at step 2 (`labkit.start(step=2)`) and look at `lab.dns.records()`:
       which records appeared?
    2. With the lab from exercise 1, run `lab.nslookup("mail.xutonglin.com", host="mail.xutonglin.com")`
       and then `lab.tmg.log()`. Why does TMG log a DNS query?
    3. Find the real port of the DNS server in `lab.endpoints()` and query it with `dig`
       from a terminal. Which client address does `lab.dns.queries()` show for it?
    """),
]
