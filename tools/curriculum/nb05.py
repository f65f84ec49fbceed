"""05-the-way-back-and-security: allen replies; what the other direction needs; anonymous is not an open relay."""

from tools.nbbuild import code, md

PATH = "notebooks/05-the-way-back-and-security.ipynb"

CELLS = [
    md("""
    # 05 · The way back, and why anonymous is safe

    **What you will learn**

    - that mail flow has a direction: everything of steps 3 and 4 is needed again the
      other way for allen's reply — a **send connector (发送连接器)** on xutonglin's side,
      a way out through TMG, and anonymous receive on contoso's side;
    - how TMG lets the internal server out (an access rule and NAT), and what the far
      side sees;
    - why accepting anonymous SMTP does not make a server an **open relay**: anonymous
      senders may deliver *to* the organisation, never *through* it.

    The write-up stops when allen receives contoso's mail; this notebook goes one step
    further, as any real deployment must.
    """),
    code("""
    import labkit
    import pandas as pd
    pd.options.display.max_colwidth = None  # show long texts (errors, log lines) in full
    """),
    md("Start the lab at step 5: all four steps of the write-up are done; contoso → allen works."),
    code("lab = labkit.start(step=5)\nlab"),
    md("""
    ## The failure: allen's reply does not arrive

    allen replies to contoso:
    """),
    code("""
    lab.send_mail("allen@xutonglin.com", "contoso@contoso.com", "Re: Hello", "Hi contoso, got it. Allen")
    lab.settle()
    lab.mailbox("contoso@contoso.com")
    """),
    code("""
    xutonglin = lab.server("mail.xutonglin.com")
    xutonglin.get_queue()[["Identity", "DeliveryType", "Status", "MessageCount", "LastError"]]
    """),
    md("""
    ## Why

    The same message as in notebook 02, on the other server: xutonglin has no route out
    either. The way back needs, one by one:

    | needed | for contoso → allen | for allen → contoso |
    | --- | --- | --- |
    | A and MX records on the public DNS | `xutonglin.com` (steps 1–2) | `contoso.com` — added in steps 1–2 too |
    | a send connector on the sender's server | on `mail.contoso.com` (step 3) | on `mail.xutonglin.com` — **missing** |
    | a way from the sender's server to the internet | contoso is on the internet | through TMG: an access rule and NAT |
    | Anonymous users on the receiver's Default connector | on xutonglin (step 4) | on contoso — **missing** |
    """),
    md("The trace from allen's side finds the first gap (✘) and the next one (⚠):"),
    code('lab.trace("allen@xutonglin.com", "contoso@contoso.com")'),
    md("## Fix 1: a send connector on xutonglin's server"),
    code("""
    %%ems mail.xutonglin.com
    New-SendConnector -Name "Internet" -Usage Internet -AddressSpaces "*" -SourceTransportServers MAIL
    """, tags=["fix"]),
    md("The reply is resubmitted and leaves — and comes straight back as an NDR:"),
    code("""
    lab.settle()
    lab.mailbox("allen@xutonglin.com").messages[["From", "Subject"]]
    """),
    code("""
    ndr = lab.mailbox("allen@xutonglin.com").message(-1)
    ndr.get_payload(1).get_payload(1)["Diagnostic-Code"]
    """),
    md("""
    The `530 5.7.1` of notebook 04, from the other side. Before fixing it, look at how
    the reply got out at all.

    ## TMG on the way out

    `mail.xutonglin.com` has only a private address; its default gateway is TMG
    (192.168.8.1). TMG lets a connection from the internal network out only when an
    **access rule** allows it — the last rule, *Default rule*, denies everything else.
    The lab's TMG starts with one: SMTP and DNS from the Exchange server to the internet.

    > *The lab's choice:* the write-up shows no outbound rule (its TMG was set up in the
    > author's previous article); the lab assumes this one, which any deployment that
    > sends mail from behind TMG needs.
    """),
    code("lab.tmg.get_access_rule()"),
    md("""
    TMG's log shows the reply's way out: the access rule let xutonglin's DNS query (for
    contoso.com's MX) and its SMTP connection out, and **NAT** replaced the source
    address 192.168.8.10 by TMG's external address 100.100.100.254. (Inbound, TMG logs
    the publishing rule instead — you will meet it in notebook 06.)
    """),
    code('lab.tmg.log()[["Action", "Rule", "Protocol", "Client IP", "Destination", "NAT"]]'),
    md("""
    So contoso sees the reply coming from 100.100.100.254 — the same address its mail to
    allen goes to.

    ## Fix 2: Anonymous users on contoso's Default receive connector
    """),
    code(r"""
    contoso = lab.server("mail.contoso.com")
    contoso.set_receive_connector(
        "MAIL\\Default MAIL", permission_groups=["AnonymousUsers", "ExchangeUsers", "ExchangeServers", "ExchangeLegacyServers"]
    )[["Identity", "PermissionGroups"]]
    """, tags=["fix"]),
    md("## Verify: allen replies again"),
    code("""
    rid = lab.send_mail("allen@xutonglin.com", "contoso@contoso.com", "Re: Hello", "Hi contoso, second try. Allen")
    lab.settle()
    lab.mailbox("contoso@contoso.com").messages[["From", "Subject", "Message-ID"]]
    """),
    md("The reply's path: out through TMG's NAT (step 5), in through contoso's Default connector:"),
    code("lab.path(rid)"),
    md("contoso's server logged the reply as received over SMTP from 100.100.100.254 — TMG's NAT at work:"),
    code('contoso.get_message_tracking_log(message_id=rid)[["EventId", "Source", "ClientIp", "ServerHostname"]]'),
    md("## Check"),
    code('lab.check("reply-delivered")', tags=["check"]),
    md("""
    ## Security: anonymous is not an open relay

    Both Default connectors now accept anonymous SMTP from anywhere on the internet. Can
    a spammer use xutonglin's server to send mail to a *third* domain — an **open
    relay**? Try it from your own machine, through TMG's published port, with a
    recipient at `fabrikam.com`. `relay_reply` speaks real SMTP (`EHLO`, `MAIL FROM`,
    `RCPT TO`) and returns the server's answer to the recipient:
    """),
    code("""
    from labkit.checks import relay_reply

    relay_reply(lab, "100.100.100.254", "someone@fabrikam.com")
    """),
    md("The same connection with a recipient in xutonglin's own domain is accepted:"),
    code('relay_reply(lab, "100.100.100.254", "allen@xutonglin.com")'),
    md("""
    The permission group *Anonymous users* grants anonymous senders the right to submit
    mail *for the organisation's own domains* (`Ms-Exch-SMTP-Accept-Any-Recipient` is
    **not** among its rights). The organisation's domains are its **accepted domains**:
    """),
    code("xutonglin.get_accepted_domain()"),
    md("""
    A recipient in an accepted domain: `250`. Any other domain: `550 5.7.1 Unable to
    relay`. Only authenticated users (allen, logged in on port 587) may send to the rest
    of the internet. contoso's server behaves the same:
    """),
    code('relay_reply(lab, "100.100.100.10", "someone@fabrikam.com")'),
    md("## Check"),
    code('lab.check("no-open-relay")', tags=["check"]),
    md("""
    ## Summary

    - Mail flow is one-way at a time: the way back needs its own **send connector
      (发送连接器)** (on xutonglin), a way out through TMG (an access rule; NAT makes the
      reply come from 100.100.100.254), and **Anonymous users** on the receiving side
      (contoso).
    - Anonymous SMTP lets the internet deliver *to* an organisation's **accepted
      domains**; relaying to any other domain is refused with `550 5.7.1 Unable to relay`.

    **Next:** `06-troubleshooting.ipynb` — broken labs to repair on your own.

    ## Exercises

    1. Remove TMG's access rule (`lab.tmg.remove_access_rule("Allow SMTP and DNS from Exchange")`)
       and have allen send again. What does xutonglin's queue say, and what does
       `lab.tmg.log()` show?
    2. Put the rule back with SMTP only (`lab.tmg.new_access_rule("SMTP out", ["SMTP"], ["192.168.8.10"])`).
       Does mail go out? Why does the server need DNS too?
    3. Add an accepted domain `fabrikam.com` to xutonglin (`xutonglin.new_accepted_domain("Fabrikam", "fabrikam.com")`)
       and run `relay_reply` again. What changed, and why is that not an open relay
       either?
    """),
]
