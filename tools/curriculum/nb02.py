"""02-mx-records: contoso sends allen a message that does not arrive; the MX records."""

from tools.nbbuild import code, md

PATH = "notebooks/02-mx-records.ipynb"

CELLS = [
    md("""
    # 02 · Mail exchanger (MX) records

    **What you will learn**

    - what happens to a message when its server does not know where to send it, and
      where to look for it: the **queue (发送队列)** and its `LastError`;
    - what a **mail exchanger record (邮件交换器记录, MX)** is: the map from the part of an
      address after the `@` to the name of the server that takes its mail;
    - how to add MX records and test them with `nslookup -type=MX` from each side.

    This is step 2 of the write-up: *在公网DNS服务器上添加MX记录*.
    """),
    code("""
    import labkit
    import pandas as pd
    pd.options.display.max_colwidth = None  # show long texts (errors, log lines) in full
    """),
    md("Start the lab at step 2: the A records of step 1 are on the public DNS."),
    code("lab = labkit.start(step=2)\nlab"),
    md("""
    ## The failure: the message does not arrive

    `contoso@contoso.com` writes to `allen@xutonglin.com`. `send_mail` hands the message
    to contoso's own server, as Outlook would, and returns its Message-ID.
    """),
    code('lab.send_mail("contoso@contoso.com", "allen@xutonglin.com", "Hello Allen", "Hi Allen, this is contoso.")'),
    md("`lab.settle()` waits until no message is moving anywhere. Then look in allen's mailbox:"),
    code('lab.settle()\nlab.mailbox("allen@xutonglin.com")'),
    md("""
    Empty. The message never left contoso. A server keeps the mail it cannot deliver in
    a **queue**; Exchange's `Get-Queue` shows them, with the reason in `LastError`:
    """),
    code("""
    contoso = lab.server("mail.contoso.com")
    contoso.get_queue()[["Identity", "DeliveryType", "Status", "MessageCount", "LastError"]]
    """),
    md("""
    ## Why

    The message sits in **Unreachable** with *A matching connector cannot be found to
    route the external recipient*. Exchange 2010 decides *how* a message leaves the
    organisation — which **send connector (发送连接器)** covers `xutonglin.com` — *before*
    it asks DNS anything, and contoso's server has no send connector yet (notebook 03
    creates it):
    """),
    code("contoso.get_send_connector()"),
    md("""
    > **How this differs from the write-up.** The original says that at this point the
    > mail fails because there is no MX record; real Exchange 2010 first looks for a send
    > connector, so the symptom you see is the Unreachable queue, and the missing MX
    > would only show once a connector exists.

    The public DNS confirms it: nobody asked it about `xutonglin.com` at all.
    """),
    code('lab.dns.queries()[["Client", "Name", "Type", "Rcode", "Answer"]]'),
    md("""
    The MX record is missing all the same, and the write-up is right that it is needed.
    `lab.trace` dry-runs what contoso's server would do with a message to allen, step by
    step, and carries on past the first failure: the send connector fails (✘), and the
    MX lookup would fail next (⚠).
    """),
    code('lab.trace("contoso@contoso.com", "allen@xutonglin.com")'),
    md("""
    Once there is a connector, the server's next question to DNS is "which server takes
    mail for `xutonglin.com`?" — the MX query. Ask it yourself, from contoso's side:
    """),
    code('lab.nslookup("xutonglin.com", "MX", host="mail.contoso.com")'),
    md("""
    No MX record: the answer is empty, and nslookup shows the zone's SOA record instead
    (the zone exists, there is just no record of that type). The A record of step 1 maps
    the *server's* name `mail.xutonglin.com` to an address; nothing maps the *mail
    domain* `xutonglin.com` — the part after the `@` — to that server. That is what an
    **MX record** does:

    `xutonglin.com` —MX→ `mail.xutonglin.com` —A→ `100.100.100.254`

    An MX record has a **preference** (priority): with several, the lowest number is
    tried first. DNS Manager's *New Mail Exchanger (MX)* dialog proposes 10.
    """),
    md("""
    ## The fix: add the MX records of both domains

    Both directions need one: `xutonglin.com` for contoso's mail to allen, `contoso.com`
    for allen's replies (notebook 05). The name `@` means the zone itself (DNS Manager's
    "same as parent folder"). In the console: pick the zone, *New Mail Exchanger (MX)...*,
    leave *Host or child domain* blank, type the mail server's FQDN, *OK*.
    """),
    code('lab.dns.add_record("xutonglin.com", "@", "MX", "mail.xutonglin.com", preference=10)', tags=["fix"]),
    md("The same at the DNS server's Command Prompt (`dnscmd zone @ MX preference host`):"),
    code("""
    %%cmd
    dnscmd /RecordAdd contoso.com @ MX 10 mail.contoso.com
    """, tags=["fix"]),
    code('lab.dns.records()[["Zone", "Name", "Type", "Data", "Preference"]]'),
    md("""
    ## Verify: nslookup -type=MX from each side

    As in the write-up: on xutonglin's side, look up contoso.com's mail exchanger...
    """),
    code('lab.nslookup("contoso.com", "MX", host="mail.xutonglin.com")'),
    md("...and on contoso's side, xutonglin.com's:"),
    code('lab.nslookup("xutonglin.com", "MX", host="mail.contoso.com")'),
    md("""
    The second line comes from the reply's *additional* section: the DNS server sends
    the A record of the mail exchanger along with the MX (a "glue" record), so the
    sender needs no second query.
    """),
    md("## Check"),
    code('lab.check("mx-records")', tags=["check"]),
    md("""
    The message itself is still in contoso's Unreachable queue — DNS was never its
    problem. The trace now passes the MX and A lookups; only the send connector is left,
    for the next notebook.
    """),
    code('lab.trace("contoso@contoso.com", "allen@xutonglin.com")'),
    md("""
    ## Summary

    - Mail that cannot be delivered waits in a **queue (发送队列)**; `get_queue()` shows
      where, and `LastError` says why.
    - Exchange 2010 chooses a **send connector (发送连接器)** before any DNS lookup: with
      none, the message goes to **Unreachable** — not the "no MX" failure the write-up
      describes.
    - An **MX record (邮件交换器记录)** maps a mail domain (`xutonglin.com`) to its mail
      server's name; the server's A record then gives the address.
    - `nslookup -type=MX` from each side now finds the other side's mail exchanger.

    **Next:** `03-send-connector.ipynb` — the route out of contoso.

    ## Exercises

    1. Add a second MX for `xutonglin.com`, `backup.xutonglin.com` with preference 20,
       and look it up. Which one would a sender try first? Remove it again.
    2. Delete `xutonglin.com`'s MX and look up `xutonglin.com` with type `A`. RFC 5321
       says a sender with no MX falls back to the domain's own A record (the "implicit
       MX"). Would that help here?
    3. In `lab.dns.queries()`, which client address do the queries from
       `mail.xutonglin.com` come from, and why not 192.168.8.10?
    """),
]
