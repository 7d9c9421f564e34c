#!/usr/bin/env python3
"""explorer-demo.py — puts a story on a running testnet for the explorer to show (docs/EXPLORER.md).

A payable certificate from issue to settlement: the core enterprise issues it to supplier1, who accepts it and
splits it (600 to supplier2, 400 kept); the bank factors the 400 piece; supplier2 passes 100 on to supplier3; at
maturity the clearing agent settles every live piece. A second certificate that supplier1 rejects, with a reason. A green credit from issuance to retirement: a programme,
methodology, project, verification (its report attested by the verifier), issuance, a transfer to supplier1, a freeze
and unfreeze of supplier1's block by the regulator, with reasons, and a retirement for a beneficiary. And a member admitted by governance. Some text fields hold HTML on purpose (a member's
legal name, a certificate's contract number, the report's title, a retirement's beneficiary and purpose): the explorer
must show them as text.

Usage: Scripts/explorer-demo.py --dir TESTNET_DIR --node http://127.0.0.1:26700 [--trellis PATH] [--maturity-seconds 40]
Prints one JSON object with the ids it created (ExplorerEndToEndTests reads it); progress goes to stderr.
Needs only Python's standard library and the trellis binary. Exit 0 when every transaction committed.
"""
import argparse
import hashlib
import json
import subprocess
import sys
import time
import urllib.request

HTML_MEMBER_NAME = '<img src=x onerror="window.__pwned=1">Evil & Co <b>bold</b>'
HTML_CONTRACT = '<script>window.__pwned=2</script>PO-<b>77</b>'
HTML_BENEFICIARY = '<img src=x onerror="window.__pwned=3">Acme Steel'
HTML_PURPOSE = '2026 claim <i>scope 2</i>'
HTML_REPORT_TITLE = 'Monitoring report <b>2025</b>'
HTML_REJECT_REASON = 'wrong <b>amount</b>: 10, not 12'
HTML_FREEZE_REASON = 'registry <b>dispute</b> 7'


class DemoFailure(Exception):
    pass


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--dir", required=True, help="the testnet directory (members/<name>.key)")
    parser.add_argument("--node", required=True, help="a node's API URL")
    parser.add_argument("--trellis", default=".build/debug/trellis", help="the trellis binary")
    parser.add_argument("--maturity-seconds", type=int, default=40, help="seconds from now until the certificate matures")
    args = parser.parse_args()
    key = lambda member: f"{args.dir}/members/{member}.key"

    hashes = []  # every committed transaction's hash, in order

    def tx(signer, *arguments):
        command = [args.trellis, "tx", *arguments, "--node", args.node, "--key", key(signer), "--wait", "--json"]
        result = subprocess.run(command, capture_output=True, text=True, timeout=180)
        try:
            answer = json.loads(result.stdout)
        except ValueError:
            answer = {}
        if result.returncode != 0 or answer.get("status") != "committed":
            raise DemoFailure(f"{' '.join(arguments[:2])} by {signer}: exit {result.returncode}: {result.stdout.strip()} {result.stderr.strip()}")
        hashes.append(answer.get("hash"))
        created = (answer.get("receipt") or {}).get("created") or []
        print(f"  {arguments[0]} {arguments[1]} by {signer}: height {answer.get('height')} created {created}", file=sys.stderr)
        return created

    def block_time():
        """The latest block's time, or 0 when the node did not answer (the caller asks again until its deadline): one
        slow answer on a loaded machine must not end the demo with a traceback."""
        try:
            with urllib.request.urlopen(f"{args.node}/v1/blocks/latest", timeout=10) as response:
                return json.load(response)["header"]["time"]
        except (OSError, ValueError, KeyError, TypeError):
            return 0

    now = int(time.time())
    run = str(now)  # ids and invoice keys are unique per run, so the script can run again on the same testnet
    # One document hash per run (an attester attests a hash once): the trade documents behind the certificate, and
    # the verification report behind the credits.
    doc_hash = hashlib.sha256(f"explorer-demo documents {run}".encode()).hexdigest()
    day = 86_400
    out = {}

    print("certificate: issue, accept, split, factoring, transfer", file=sys.stderr)
    line = f"line-{run}"
    tx("bank", "credit-line", "set", "--line", line, "--core", "core", "--limit", "1000000", "--expiry", str(now + 200 * day), "--cosign", key("core"))
    maturity = int(time.time()) + args.maturity_seconds
    root = tx("core", "certificate", "issue", "--credit-line", line, "--holder", "supplier1", "--face", "1000", "--maturity", str(maturity),
              "--contract-no", HTML_CONTRACT, "--invoices", f"INV-{run}", "--doc-hash", doc_hash)[0]
    tx("supplier1", "certificate", "accept", "--certificate", root)
    c600, c400 = tx("supplier1", "certificate", "split", "--certificate", root, "--amounts", "600,400", "--to", "supplier2")
    split_tx = hashes[-1]
    tx("supplier2", "certificate", "accept", "--certificate", c600)
    financing = tx("supplier1", "financing", "request", "--certificate", c400, "--financier", "bank", "--advance", "350", "--rate-bps", "450", "--type", "factoring")[0]
    tx("bank", "financing", "approve", "--financing", financing)
    c100, c500 = tx("supplier2", "certificate", "transfer", "--certificate", c600, "--to", "supplier3", "--amount", "100")
    tx("supplier3", "certificate", "accept", "--certificate", c100)
    out.update(certificate=root, pieces=[c600, c400, c100, c500], financing=financing, maturity=maturity, contract_no=HTML_CONTRACT, split_tx=split_tx)
    # A second certificate that its holder refuses, with a reason (the lineage shows it, read from the transaction).
    refused = tx("core", "certificate", "issue", "--credit-line", line, "--holder", "supplier1", "--face", "10", "--maturity", str(maturity),
                 "--contract-no", f"PO-{run}-r", "--invoices", f"INV-{run}-r", "--doc-hash", doc_hash)[0]
    tx("supplier1", "certificate", "reject", "--certificate", refused, "--reason", HTML_REJECT_REASON)
    out.update(rejected=refused, reject_reason=HTML_REJECT_REASON)

    print("credits: programme, methodology, project, verification, issuance, transfer, retirement", file=sys.stderr)
    program, methodology, project = f"P{run}", f"M{run}", f"wind-{run}"
    tx("registry", "program", "register", "--program", program, "--unit", "tCO2e")
    tx("registry", "methodology", "register", "--methodology", methodology, "--version", "1.0", "--title", "Renewable power")
    tx("proponent", "project", "register", "--project", project, "--program", program, "--methodology", methodology, "--methodology-version", "1.0",
       "--country", "CN", "--location", f"Gansu-{run}", "--sector", "energy", "--devices", f"T-{run}", "--crediting-start", str(now - 300 * day),
       "--crediting-end", str(now + 300 * day), "--external-ids", f"VCS-{run}", "--cosign", key("registry"))
    verification = tx("verifier", "verification", "submit", "--project", project, "--period-start", str(now - 200 * day), "--period-end", str(now - 100 * day),
                      "--quantity", "1000", "--report-hash", doc_hash)[0]
    # The verifier attests its report's hash (the same document hash the certificate's trade_ref cites): provenance
    # and lineage show the attestation.
    report = {"doc_hash": doc_hash, "doc_kind": "verification_report", "title": HTML_REPORT_TITLE, "metadata": {"period": "2025"},
              "refs": [{"kind": "verification", "id": verification}]}
    tx("verifier", "send", "--kind", "evidence.attest", "--payload", json.dumps(report))
    issued = tx("registry", "credit", "issue", "--verification", verification, "--quantity", "1000", "--buffer", "100")
    main_block = issued[1]
    to_supplier, kept = tx("proponent", "credit", "transfer", "--block", main_block, "--quantities", "300,600", "--to", "supplier1")
    credit_transfer_tx = hashes[-1]
    # The regulator freezes supplier1's block and lifts the freeze, each with a reason (the provenance shows them,
    # read from the transactions).
    tx("regulator", "asset", "freeze", "--credit-block", to_supplier, "--reason", HTML_FREEZE_REASON)
    tx("regulator", "asset", "unfreeze", "--credit-block", to_supplier, "--reason", "dispute settled")
    tx("supplier1", "credit", "retire", "--block", f"{to_supplier}:1-100", "--beneficiary", HTML_BENEFICIARY, "--purpose", HTML_PURPOSE,
       "--claim-start", str(now - 30 * day), "--claim-end", str(now))
    out.update(program=program, serial=42, project=project, verification=verification, credit_block=to_supplier, kept_block=kept,
               credit_transfer_tx=credit_transfer_tx, beneficiary=HTML_BENEFICIARY, purpose=HTML_PURPOSE,
               report_title=HTML_REPORT_TITLE, freeze_reason=HTML_FREEZE_REASON)

    print("governance: a member with HTML in its legal name", file=sys.stderr)
    keygen = subprocess.run([args.trellis, "keys", "generate", "--out", f"{args.dir}/members/html-{run}.key"], capture_output=True, text=True, timeout=60)
    if keygen.returncode != 0:
        raise DemoFailure(f"keys generate: {keygen.stderr.strip()}")
    member = f"html-{run}"
    action = {"type": "member.add", "member": {"member_id": member, "legal_name": HTML_MEMBER_NAME, "registration_no": f"REG-{run}",
                                              "public_keys": [keygen.stdout.strip()], "roles": ["participant"]}}
    proposal = tx("gov1", "governance", "propose", "--action", json.dumps(action), "--summary", "explorer demo")[0]
    tx("gov2", "governance", "approve", "--proposal", proposal)
    out.update(member=member, member_name=HTML_MEMBER_NAME)

    print(f"settlement: waiting for block time ≥ maturity {maturity}", file=sys.stderr)
    deadline = time.time() + args.maturity_seconds + 120
    while block_time() < maturity:
        if time.time() > deadline:
            raise DemoFailure(f"block time did not reach the maturity {maturity} within {args.maturity_seconds + 120} s")
        time.sleep(1)
    out["payouts"] = tx("clearing", "certificate", "settle", "--root", root)
    print(json.dumps(out, sort_keys=True))


if __name__ == "__main__":
    try:
        main()
    except DemoFailure as failure:
        print(f"explorer-demo: {failure}", file=sys.stderr)
        sys.exit(1)
