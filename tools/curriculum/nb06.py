"""06-troubleshooting: six broken labs to repair without instructions; the fix cells are the solutions."""

from tools.nbbuild import code, md

PATH = "notebooks/06-troubleshooting.ipynb"

SEND = 'lab.send_mail("contoso@contoso.com", "allen@xutonglin.com", "Test", "Is mail flowing?")'
QUEUE = 'contoso.get_queue()[["Identity", "Status", "MessageCount", "LastError"]]'
TRACE = 'lab.trace("contoso@contoso.com", "allen@xutonglin.com")'
DIAGNOSE = 'd = lab.diagnose("xutonglin.com")\nd[d["Result"] != "pass"]'
RETRY = r'''
contoso.retry_queue("MAIL\\1")
lab.settle()
lab.mailbox("allen@xutonglin.com")
'''


def broken_lab(number: int, name: str, symptom: str, tools: list[str], fix: str, after_fix: str | None = RETRY) -> list:
    """The cells of one broken lab: start, symptom, tools, solution (tagged fix), verify, check."""
    cells = [
        md(f"## {number} · `{name}`\n\n{symptom}"),
        code(f'lab = labkit.start(broken="{name}")\ncontoso = lab.server("mail.contoso.com")\n{SEND}'),
        code(f"lab.settle()\n{QUEUE}"),
    ]
    cells += [code(t) for t in tools]
    cells.append(code(TRACE))
    cells.append(md("**Solution**"))
    cells.append(code(fix, tags=["fix"]))
    if after_fix:
        cells.append(code(after_fix))
    cells.append(code('lab.check("mail-flows")', tags=["check"]))
    return cells


CELLS = [
    md("""
    # 06 · Troubleshooting

    **What you will learn**

    - to repair a mail flow that someone else broke, with no instructions — only the
      symptom and the tools;
    - which tool answers which question, from the first symptom (a **queue (发送队列)**
      and its `LastError`, an NDR) to the cause.

    Each section starts a lab where all four steps of the write-up were done — and then
    one thing was broken. contoso sends allen a test message; it does not arrive. Find
    out why, repair it, and run the check, which sends a fresh message and looks for it
    in allen's mailbox.
    """),
    code("""
    import labkit
    import pandas as pd
    pd.options.display.max_colwidth = None  # show long texts (errors, log lines) in full
    """),
    md("""
    ## The toolbox

    | question | tool |
    | --- | --- |
    | where is the message, and what went wrong last? | `contoso.get_queue()`, `contoso.get_message()` |
    | what would contoso's server do with a message, step by step? | `lab.trace("contoso@contoso.com", "allen@xutonglin.com")` |
    | what does the public DNS say? | `lab.nslookup(name, "A" or "MX", host=...)`, `lab.dns.records()` |
    | is xutonglin reachable from the internet? | `lab.diagnose("xutonglin.com")`, `lab.tmg.get_publishing_rule()`, `lab.tmg.log()`, `lab.network_log()` |
    | how are the connectors set? | `contoso.get_send_connector()`, `lab.server("mail.xutonglin.com").get_receive_connector()` |
    | what did the servers say to each other? | `contoso.get_protocol_log("send")`, the NDR in `lab.mailbox("contoso@contoso.com")` |

    Each section shows a few of these tools at work, and last the trace — which names
    the fix outright, so try the others first. `lab.diagnose` tests a domain from the
    internet the way an online "MX checker" does; its rows that did not pass are the
    interesting ones (`d[d["Result"] != "pass"]`).

    After a repair, a message waiting in a delivery queue in `Retry` goes at the next
    retry; `contoso.retry_queue("MAIL\\\\1")` sends it now (`Retry-Queue`). One that got
    an NDR is gone for good: send a new one.

    **No peeking:** the cell after **Solution** in each section is the repair.
    """),
    *broken_lab(
        1, "a-internal",
        "**Symptom.** contoso's users say their mail to xutonglin.com stopped arriving after someone "
        "\"tidied up\" the public DNS.",
        ['lab.nslookup("mail.xutonglin.com", host="mail.contoso.com")', 'lab.network_log()[["Protocol", "Source", "Destination", "Outcome", "Detail"]]'],
        'lab.dns.remove_record("xutonglin.com", "mail", "A")\nlab.dns.add_record("xutonglin.com", "mail", "A", "100.100.100.254")',
    ),
    md("""
    The A record pointed at the server's internal address 192.168.8.10, which the
    internet cannot reach. The queue's `451 4.4.0 … Unable to connect` says only that the
    connection failed; `nslookup` from contoso's side shows the wrong address, and the
    lab network's log says why it failed.
    """),
    *broken_lab(
        2, "a-typo",
        "**Symptom.** The same complaint, after a late-night DNS change.",
        ['lab.nslookup("mail.xutonglin.com", host="mail.contoso.com")', 'lab.tmg.log()'],
        'lab.dns.remove_record("xutonglin.com", "mail", "A")\nlab.dns.add_record("xutonglin.com", "mail", "A", "100.100.100.254")',
    ),
    md("""
    A typing slip: 100.100.100.245 instead of .254. Nothing listens there, and TMG's log
    is empty — the connections never reached TMG, a strong hint that the sender went
    somewhere else.
    """),
    *broken_lab(
        3, "mx-typo",
        "**Symptom.** Mail to allen waits on contoso's server with a DNS error.",
        ['lab.nslookup("xutonglin.com", "MX", host="mail.contoso.com")', 'lab.nslookup("mial.xutonglin.com", host="mail.contoso.com")'],
        'lab.dns.remove_record("xutonglin.com", "@", "MX")\nlab.dns.add_record("xutonglin.com", "@", "MX", "mail.xutonglin.com", preference=10)',
    ),
    md("""
    The MX record named `mial.xutonglin.com`, which has no A record: the MX answer comes
    without its glue address line, and the name itself does not exist.

    > *The lab's choice:* `DNS query failed with error InfoNoRecords` is the wording of
    > newer Exchange versions; Exchange 2010's exact text is not confirmed.
    """),
    *broken_lab(
        4, "no-publishing",
        "**Symptom.** Mail to allen stopped after a firewall change at xutonglin.com.",
        [DIAGNOSE, "lab.tmg.get_publishing_rule()"],
        'lab.tmg.new_publishing_rule("Publish mail.xutonglin.com SMTP", "192.168.8.10", port=25)',
    ),
    md("""
    DNS is right — the name points at TMG, and `diagnose` finds the MX and A records
    fine — but TMG no longer publishes port 25, so nobody answers on 100.100.100.254:25. The publishing rule forwards the internet's
    connections to the internal server; without it, the server is invisible.
    """),
    *broken_lab(
        5, "wrong-address-space",
        "**Symptom.** Mail to allen goes nowhere; contoso's server does not even try to send it.",
        ['contoso.get_send_connector()[["Identity", "AddressSpaces", "Enabled"]]'],
        'contoso.set_send_connector("Internet", address_spaces=["*"])[["Identity", "AddressSpaces"]]',
        after_fix='lab.settle()\nlab.mailbox("allen@xutonglin.com")',
    ),
    md("""
    The send connector covered `xutonglin.net`, not `xutonglin.com`, so no connector
    matched: Unreachable, exactly as in notebook 02. Changing the address space resubmits
    Unreachable, so no retry is needed.
    """),
    *broken_lab(
        6, "anonymous-removed",
        "**Symptom.** contoso gets its messages to allen back as undeliverable.",
        [
            'lab.mailbox("contoso@contoso.com").message(-1).get_payload(1).get_payload(1)["Diagnostic-Code"]',
            'lab.tmg.log()[["Action", "Rule", "Client IP", "Destination", "NAT"]]',
            DIAGNOSE,
        ],
        'lab.server("mail.xutonglin.com").set_receive_connector(\n'
        '    "MAIL\\\\Default MAIL", permission_groups=["AnonymousUsers", "ExchangeUsers", "ExchangeServers", "ExchangeLegacyServers"]\n'
        ')[["Identity", "PermissionGroups"]]',
        after_fix=None,
    ),
    md("""
    The queue is empty — the message did not wait, it failed: `530 5.7.1` is permanent,
    so contoso sent an NDR at once. TMG published the connection as it should (its log
    shows the publishing rule forwarding contoso's connection); the receiving Default
    connector no longer admitted anonymous senders, as `diagnose`'s *Anonymous
    acceptance* row says. (The check sends a
    new message; the failed one is not retried.)

    ## Summary

    - Start from the symptom: the **queue** and its `LastError`, or the NDR.
    - `451 4.4.0 … Unable to connect` means the sender found an address but nobody
      answered there: check the A record (`nslookup` from the sender's side), then the
      publishing rule and TMG's log.
    - A DNS error in `LastError` points at the MX record; `Unreachable` at the send
      connector; an NDR with `530 5.7.1` at the receive connector's permission groups.
    - After a repair: `Retry-Queue` for messages waiting in Retry; messages that were
      NDR'd must be sent again.

    ## Exercises

    1. Break a lab yourself for a partner — for example remove TMG's access rule
       (`lab.tmg.remove_access_rule("Allow SMTP and DNS from Exchange")`) — and watch
       them find it. Which direction of mail does that break?
    2. For each broken lab above, what would *allen* see when he replied to contoso
       (starting from `labkit.start(broken=...)`, where xutonglin has no send connector)?
    3. `labkit.start(broken="...")` takes the names from the lab's scenario file,
       `labkit/scenarios/seed.toml`. Read the `[broken.*]` tables: each is a list of the
       same API calls you used in the repairs.
    """),
]
