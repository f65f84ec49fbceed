"""04-anonymous-receive: port 25, anonymous server-to-server SMTP, and the mail arriving at last."""

from tools.nbbuild import code, md

PATH = "notebooks/04-anonymous-receive.ipynb"

CELLS = [
    md("""
    # 04 · Anonymous SMTP on port 25

    **What you will learn**

    - how two mail servers on the internet talk: SMTP on port 25, with **anonymous login
      (匿名登录)** — the sending server never logs in;
    - what a **receive connector (接收连接器)** is, and why Exchange 2010's Default
      connector refuses the internet out of the box (`530 5.7.1`);
    - how to let anonymous senders in (in the connector's Properties or with one line of
      code), and how to follow the delivered message: its `Received:` chain, the
      message tracking logs of both servers and the SMTP conversation itself.

    This is step 4 of the write-up: *设置SMTP端口和登陆权限*.
    """),
    code("""
    import labkit
    import pandas as pd
    pd.options.display.max_colwidth = None  # show long texts (errors, log lines) in full
    """),
    md("Start the lab at step 4: DNS records and contoso's Internet send connector are in place."),
    code("lab = labkit.start(step=4)\nlab"),
    md("""
    ## The failure: allen still gets nothing

    *登陆allen@xutonglin.com账户查看…结果发现还是不能发送* — allen logs in and the mail is not there:
    """),
    code("""
    mid = lab.send_mail("contoso@contoso.com", "allen@xutonglin.com", "Hello", "Hi Allen, third try.")
    lab.settle()
    lab.mailbox("allen@xutonglin.com")
    """),
    md("The sender got a non-delivery report (NDR) back; its last lines give the reason:"),
    code("""
    ndr = lab.mailbox("contoso@contoso.com").message(0)
    ndr["Subject"], ndr.get_payload(1).get_payload(1)["Diagnostic-Code"]
    """),
    md("""
    ## Why

    Two mail servers on the internet always talk **SMTP on the standard port 25**, and
    the sending server connects **anonymously (匿名登录)**: contoso's server has no
    account at xutonglin.com, so it cannot log in. On the receiving side, the SMTP
    listener is a **receive connector (接收连接器)**; who may use it is set by its
    **permission groups**. xutonglin's *Default MAIL* connector listens on port 25 but
    admits only Exchange users and servers — not **Anonymous users**:
    """),
    code("""
    xutonglin = lab.server("mail.xutonglin.com")
    xutonglin.get_receive_connector()[["Identity", "Bindings", "PermissionGroups"]]
    """),
    md("""
    Watch the refusal in the SMTP conversation between the two servers (`C:` contoso,
    the client; `S:` xutonglin, the server; `*` a note of the server's). contoso says
    `EHLO`, then — the server offers `PIPELINING` — `MAIL FROM`, `RCPT TO` and `DATA` in one
    go, and is told `530 5.7.1 Client was not authenticated`, then `503` twice: no
    sender, so no recipient and no data. Note the session permissions: *(none)*.
    """),
    code("lab.conversation(mid)"),
    md("""
    > *The lab's choice:* before an error reply to an anonymous sender Exchange waits
    > 5 seconds (the *tarpit*); the lab waits 0.2 s, as the `Tarpit for …` rows show.

    ## The fix: tick Anonymous users

    **With the console.** In the Exchange Management Console: Server Configuration → Hub
    Transport → `mail.xutonglin.com` → *Default MAIL* → Properties → *Permission Groups*
    tab → tick **Anonymous users** → Apply (*启用mail.xutonglin.com邮件服务器的smtp匿名登录*).
    """),
    code("""
    from labkit.widgets import ReceiveConnectorProperties

    ReceiveConnectorProperties(lab, server="mail.xutonglin.com")
    """),
    md("""
    **With the Exchange Management Shell.** `Set-ReceiveConnector -PermissionGroups`
    replaces the whole list, so give all four groups (the Python call below the output,
    `xutonglin.set_receive_connector(...)`, does the same; any of the three ways counts):
    """),
    code("""
    %%ems mail.xutonglin.com
    Set-ReceiveConnector "MAIL\\Default MAIL" -PermissionGroups AnonymousUsers,ExchangeUsers,ExchangeServers,ExchangeLegacyServers
    Get-ReceiveConnector "MAIL\\Default MAIL" | fl Identity,PermissionGroups
    """, tags=["fix"]),
    md("## Check"),
    code('lab.check("anonymous-receive")', tags=["check"]),
    md("""
    ## Verify: send again, and allen reads the mail

    The first message is gone for good (an NDR is final), so contoso sends another:
    *再次往allen@xutonglin.com发送测试邮件*.
    """),
    code("""
    mid = lab.send_mail("contoso@contoso.com", "allen@xutonglin.com", "Hello", "Hi Allen, fourth try.")
    lab.settle()
    lab.mailbox("allen@xutonglin.com")
    """),
    md("allen opens it in an OWA-like mailbox view:"),
    code("""
    from labkit.widgets import MailboxView

    MailboxView(lab, address="allen@xutonglin.com")
    """),
    md("The same in code, and the message itself with every header:"),
    code("""
    msg = lab.mailbox("allen@xutonglin.com").message(0)
    print(msg)
    """),
    md("## Check"),
    code('lab.check("mail-delivered")', tags=["check"]),
    md("""
    ## Follow the message

    **The `Received:` chain.** Each server that handles a message adds a `Received:`
    header on top, so read them bottom-up: hop 1 is contoso's server taking the message
    from the sender's mailbox (`with mapi`); hop 2 is xutonglin's server receiving it
    over SMTP from contoso's public address 100.100.100.10. TMG forwarded the connection
    but kept the original client address, so there is no hop for it.
    """),
    code("""
    from labkit.widgets import received_chain

    received_chain(msg)[["Hop", "From", "By", "With"]]
    """),
    md("""
    **Message tracking, both servers.** Exchange's `Get-MessageTrackingLog` searches one
    server at a time; follow the Message-ID on each. On contoso: `SUBMIT` and `RECEIVE`
    (from the sender's mailbox), then `SEND` over SMTP to 100.100.100.254:
    """),
    code('lab.server("mail.contoso.com").get_message_tracking_log(message_id=mid)[["EventId", "Source", "ClientIp", "ServerIp"]]'),
    md("""
    On xutonglin: `RECEIVE` over SMTP from 100.100.100.10 — TMG kept the original client
    address — then `DELIVER` into allen's mailbox. (The Message Tracking console,
    `MessageTracking(lab)` in `labkit.widgets`, searches every server at once.)
    """),
    code('xutonglin.get_message_tracking_log(message_id=mid)[["EventId", "Source", "ClientIp", "ServerIp"]]'),
    md("""
    **The SMTP conversation.** This time the anonymous session holds the right to submit
    (`SMTPSubmit`), and `MAIL FROM`, `RCPT TO` and `DATA` get `250`, `250` and `354`; after
    the message, `250 2.6.0 … Queued mail for delivery`:
    """),
    code("lab.conversation(mid)"),
    md("""
    The picture is drawn from the servers' **protocol logs**, the files Exchange writes
    when a connector's `ProtocolLoggingLevel` is `Verbose`. The raw rows of xutonglin's
    receive log for this session (`<` received, `>` sent, `*` a note, `+`/`-` connect
    and disconnect):
    """),
    code("""
    log = xutonglin.get_protocol_log("receive")
    log[log["session-id"] == log["session-id"].iloc[-1]][["event", "data", "context"]]
    """),
    md("""
    And the whole path, hop by hop:
    """),
    code("lab.path(mid)"),
    md("""

    ## Summary

    - Mail servers on the internet talk SMTP on **port 25**, **anonymously (匿名登录)**.
    - The **receive connector (接收连接器)** *Default MAIL* listens on port 25 but, in
      Exchange 2010, does not admit Anonymous users: the sender gets `530 5.7.1 Client
      was not authenticated` and the message comes back as an NDR.
    - Ticking **Anonymous users** (`permission_groups` with `AnonymousUsers`) lets the
      internet's servers deliver to xutonglin's own domain — and allen gets the mail.
    - `Received:` headers, message tracking and protocol logs each show the path from
      their own point of view.

    **Next:** `05-the-way-back-and-security.ipynb` — allen replies, and why anonymous is
    not an open door.

    ## Exercises

    1. Connect to xutonglin from "your machine" and speak SMTP yourself:
       `lab.endpoints()` gives the real port of TMG's 100.100.100.254:25; try
       `telnet 127.0.0.1 PORT` (or Python's `smtplib`) with `EHLO`, `MAIL FROM`,
       `RCPT TO:<allen@xutonglin.com>`, `DATA`. Which address does xutonglin's protocol log
       show for you?
    2. Remove `AnonymousUsers` again and resend. Which tracking events appear on each
       server now?
    3. Why does the `Received:` chain have no hop for TMG?
    """),
]
