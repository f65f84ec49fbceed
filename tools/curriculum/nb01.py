"""01-a-records: the host (A) records of both mail servers on the public DNS."""

from tools.nbbuild import code, md

PATH = "notebooks/01-a-records.ipynb"

CELLS = [
    md("""
    # 01 · Host (A) records on the public DNS

    **What you will learn**

    - what a **host A record (主机A记录)** is, and why each mail server needs one on the
      **public DNS (公网DNS)**;
    - why `mail.xutonglin.com` must point at the firewall's **published (发布)** address
      100.100.100.254 and not at the server's own address 192.168.8.10;
    - how to add records (in the DNS Manager console or with one line of code) and test
      them with `nslookup` from both sides.

    This is step 1 of the write-up: *在公网DNS服务器上添加主机A记录*.
    """),
    code("""
    import labkit
    import pandas as pd
    pd.options.display.max_colwidth = None  # show long texts (errors, log lines) in full
    """),
    md("Start the lab at step 1: nothing is configured on the public DNS yet."),
    code("lab = labkit.start(step=1)\nlab"),
    md("""
    ## The failure: nobody can find the mail servers

    Ask the public DNS (100.100.100.2) for contoso's mail server, from your own machine
    on the internet:
    """),
    code('lab.nslookup("mail.contoso.com")'),
    md("""
    And from inside xutonglin.com: `host=` says which lab machine runs `nslookup`. The
    query leaves through TMG, so this also shows that the internal server can reach
    the internet's DNS.
    """),
    code('lab.nslookup("mail.xutonglin.com", host="mail.xutonglin.com")'),
    md("""
    ## Why

    The zones exist, but they hold only their SOA and NS records — no name of any
    server:
    """),
    code('lab.dns.records()[["Zone", "Name", "Type", "Data"]]'),
    md("""
    A **host A record** maps a fully qualified name (FQDN) to an IPv4 address. A mail
    server on the internet is found by its name, so each needs one:

    | name | address | why |
    | --- | --- | --- |
    | `mail.contoso.com` | 100.100.100.10 | contoso's server sits straight on the internet |
    | `mail.xutonglin.com` | **100.100.100.254** | xutonglin's server is on a private network |

    `mail.xutonglin.com` really lives at 192.168.8.10, a **private address**: routers on
    the internet do not carry traffic to 192.168.x.x, so nobody outside could use it.
    What the outside can reach is the **Forefront TMG** firewall's external address,
    100.100.100.254, where TMG **publishes (发布)** port 25: a publishing rule forwards
    every connection on 100.100.100.254:25 to 192.168.8.10:25.
    """),
    code("lab.tmg.get_publishing_rule()"),
    md("""
    So the public name must point at the published address. (Inside xutonglin.com an
    internal DNS would map the same name to 192.168.8.10 — a *split-brain* DNS — but
    this lab has only the public DNS.)

    ## The fix: add the two A records

    **With the console.** DNS Manager works like the Windows one: pick a zone, press
    *New Host (A)...*, type the name (`mail`) and the address, press *Add Host*. Under
    the console it shows the Python call it made — the same call as the code cell below.
    """),
    code("""
    from labkit.widgets import DnsManager

    DnsManager(lab, zone="xutonglin.com")
    """),
    md("""
    **With code.** `add_record(zone, name, type, data)` is what *Add Host* calls. (If you
    already added a record in the console, running its code cell again fails with
    "already exists": that is fine, the record is there.)
    """),
    code('lab.dns.add_record("contoso.com", "mail", "A", "100.100.100.10")', tags=["fix"]),
    md("""
    **At the DNS server's Command Prompt.** A Windows DNS administrator types the same
    record with `dnscmd` (`%%cmd` runs the cell at the lab DNS server's prompt; below
    dnscmd's own reply is the Python call that does the same). Any of the three ways —
    console, `dnscmd`, Python — is a correct answer.
    """),
    code("""
    %%cmd
    dnscmd /RecordAdd xutonglin.com mail A 100.100.100.254
    """, tags=["fix"]),
    code('lab.dns.records()[["Zone", "Name", "Type", "Data"]]'),
    md("""
    ## Verify: nslookup from both sides

    From the contoso side, look up xutonglin's server — the address contoso's server
    will connect to:
    """),
    code('lab.nslookup("mail.xutonglin.com", host="mail.contoso.com")'),
    md("And from the xutonglin side, contoso's server:"),
    code('lab.nslookup("mail.contoso.com", host="mail.xutonglin.com")'),
    md("""
    There is no "Non-authoritative answer" line: 100.100.100.2 is the server that
    holds these zones, so its answers are authoritative. The DNS server's own log shows
    who asked. The query from `mail.xutonglin.com` arrives from 100.100.100.254: TMG
    translated its source address (NAT) on the way out.
    """),
    code('lab.dns.queries()[["Client", "Name", "Type", "Rcode", "Answer"]]'),
    md("## Check"),
    code('lab.check("a-records")', tags=["check"]),
    md("""
    ## Summary

    - A **host A record (主机A记录)** maps a server's name to its public IP address.
    - `mail.contoso.com` → 100.100.100.10, its own address on the internet.
    - `mail.xutonglin.com` → 100.100.100.254, TMG's external address, because TMG
      **publishes (发布)** the internal server's port 25 there; its real address
      192.168.8.10 is private and unreachable from the internet.
    - `nslookup` from either side now finds both servers.

    **Next:** `02-mx-records.ipynb` — contoso sends allen a message, and it does not arrive.

    ## Exercises

    1. Point `mail.xutonglin.com` at 192.168.8.10 instead (remove the record with
       `lab.dns.remove_record("xutonglin.com", "mail", "A")`, add the wrong one) and run
       the check. What does the hint say? Put the right record back.
    2. Run `lab.nslookup("mail.xutonglin.com", "MX")`. Why is the answer an SOA record
       and not an error?
    3. Look up `mail.fabrikam.com`. The lab's DNS is authoritative only for its two zones;
       what does it answer for anything else, and why?
    """),
]
