// ExplorerEndToEndTests.swift — the web explorer in a real browser against a live node: a one-validator testnet
// (`trellis testnet up`) gets the story of Scripts/explorer-demo.py (a certificate from issue through a split, a
// factoring and a transfer to settlement; a credit from issuance to retirement; a member admitted by governance),
// then headless Chromium (Debian's `chromium`, driven by Scripts/browser.py over the DevTools protocol) loads the
// pages and the test checks the rendered DOM: public pages without a key, a readable refusal where a key is needed,
// the regulator's key pasted into the page, every answer "derived from N state records proved against the certified
// header at height H" (SHA-256 and Ed25519 computed by the browser), the lineage drawn as a tree with one box per
// piece, the provenance chain and its retirement, the retirements, a transaction's inclusion, altered answers shown
// red, readable errors for unknown objects and pages, and the HTML
// the demo put in a member's legal name, a contract number and a beneficiary shown as text — no element and no
// script from it. With TRELLIS_EXPLORER_SCREENSHOTS=DIR it also writes a PNG of each page there (docs/explorer/).
// On the same chain, the CLI's `audit export --json` and `audit prove --json` answers. A second test changes the
// validator set of a 4-validator testnet for real (`validator.add`, `validator.remove`) and checks that the browser
// verifies each block's certificate against the set in force at its height.
// Skipped, with the reason, where chromium or python3 is missing. Every wait is on a condition (generous budgets).
import Foundation
import Testing
import TrellisCrypto
import TrellisLedger
import TrellisTesting

enum BrowserSupport {
    static let chromium = ["/usr/bin/chromium", "/usr/bin/chromium-browser"].first { FileManager.default.isExecutableFile(atPath: $0) }
    static let python = FileManager.default.isExecutableFile(atPath: "/usr/bin/python3") ? "/usr/bin/python3" : nil
    static var unavailableReason: String? {
        if chromium == nil { return "needs Debian's chromium (apt-get install chromium) for a real browser" }
        if python == nil { return "needs python3 (Scripts/browser.py drives the browser)" }
        return nil
    }
    static var available: Bool { unavailableReason == nil }
}

/// A JavaScript string literal of `text` (JSON's string syntax is JavaScript's).
private func js(_ text: String) -> String {
    String(decoding: try! JSONSerialization.data(withJSONObject: text, options: [.fragmentsAllowed]), as: UTF8.self)
}

/// A page route as the explorer writes it (`#/` + components encoded like encodeURIComponent).
private func route(_ parts: String...) -> String {
    var allowed = CharacterSet.alphanumerics
    allowed.insert(charactersIn: "-_.!~*'()")
    return "#/" + parts.map { $0.addingPercentEncoding(withAllowedCharacters: allowed) ?? $0 }.joined(separator: "/")
}

/// Steps of a Scripts/browser.py plan.
private struct Plan {
    var steps: [[String: Any]] = []
    let screenshots = ProcessInfo.processInfo.environment["TRELLIS_EXPLORER_SCREENSHOTS"]

    /// Shows `route` and waits until the page finished loading and, with `settled`, until its proof or certificate
    /// check ended (or it shows an error).
    mutating func open(_ route: String, as name: String, settled: Bool = true) {
        steps.append(["eval": "location.hash = \(js(route)); true"])
        steps.append(["wait": "document.querySelector('#view .notice') === null && document.querySelector('#view') !== null", "timeout": 120])
        if settled {
            steps.append(["wait": "document.querySelector('#view .error') !== null || (document.querySelector('#view [data-proof]') !== null && document.querySelector('#view [data-proof=checking]') === null)", "timeout": 120])
        }
        steps.append(["eval": "document.getElementById('view').innerText", "as": "\(name).text"])
        steps.append(["eval": "Array.from(document.querySelectorAll('#view [data-proof]')).map(e => e.getAttribute('data-proof')).join(',')", "as": "\(name).proof"])
        // Nothing a node-supplied value holds ran or became an element (the demo's HTML has <img>, <script>, <b>, <i>).
        steps.append(["eval": "[typeof window.__pwned, document.querySelectorAll('#view img, #view script, #view b, #view i').length].join(',')", "as": "\(name).pwned"])
        if let screenshots { steps.append(["screenshot": "\(screenshots)/\(name).png"]) }
    }

    mutating func eval(_ expression: String, as name: String) { steps.append(["eval": expression, "as": name]) }

    /// Loads the explorer at `url` and waits until its scripts ran.
    mutating func load(_ url: String) {
        steps.append(["goto": url])
        steps.append(["wait": "location.href.startsWith(\(js(url))) && document.readyState === 'complete' && typeof Trellis === 'object' && document.getElementById('key-link') !== null", "timeout": 120])
    }
}

@Suite(.serialized) struct ExplorerEndToEndTests {
    @Test(.enabled(if: BrowserSupport.available, Comment(rawValue: BrowserSupport.unavailableReason ?? "")))
    func pagesRenderProofsVerifyInTheBrowserAndHTMLStaysText() async throws {
        try await OwnThread.run { try pagesRenderProofsVerifyInTheBrowserAndHTMLStaysTextBody() }
    }

    /// The test, synchronous (it blocks on processes): run on a thread of its own by `OwnThread`.
    func pagesRenderProofsVerifyInTheBrowserAndHTMLStaysTextBody() throws {
        let net = try LocalTestnet.start(nodes: 1)  // ports from TestPorts
        defer { net.stop() }
        let api = net.apis[0]

        let demo = try CLI.runProcess(BrowserSupport.python!, [CLI.repositoryRoot + "/Scripts/explorer-demo.py", "--dir", net.dir, "--node", api,
                                                               "--trellis", CLI.binary.path, "--maturity-seconds", "30"])
        try #require(demo.status == 0, "explorer-demo.py failed: \(demo.stderr)")
        let story = json(demo.stdout.split(separator: "\n").last.map(String.init) ?? "")
        let root = try #require(story["certificate"] as? String), pieces = try #require(story["pieces"] as? [String])
        let program = try #require(story["program"] as? String), member = try #require(story["member"] as? String)
        let memberName = try #require(story["member_name"] as? String), contract = try #require(story["contract_no"] as? String)
        let beneficiary = try #require(story["beneficiary"] as? String), purpose = try #require(story["purpose"] as? String)
        let reportTitle = try #require(story["report_title"] as? String)
        try #require(pieces.count == 4)
        let regulatorKey = try String(contentsOfFile: net.key("regulator"), encoding: .utf8)

        var plan = Plan()
        plan.load(api + "/explorer/")
        // Without a key: the public status page, and a readable refusal of a certificate.
        plan.open("#/", as: "status")
        plan.open(route("certificate", root), as: "anonymous-lineage")
        // The regulator's key, pasted into the page.
        plan.open("#/key", as: "key", settled: false)
        plan.eval("document.getElementById('key-text').value = \(js(regulatorKey)); document.getElementById('key-use').click(); true", as: "paste")
        plan.steps.append(["wait": "document.getElementById('key-link').textContent === 'Key: regulator' || document.querySelector('#key-message .error') !== null", "timeout": 120])
        plan.eval("document.getElementById('key-link').textContent", as: "key.link")
        plan.open(route("certificate", root), as: "lineage")
        plan.eval("document.querySelectorAll('#view svg g.node').length", as: "lineage.boxes")
        plan.eval("Array.from(document.querySelectorAll('#view svg g.node')).map(g => g.getAttribute('data-cert')).sort().join(',')", as: "lineage.certs")
        plan.eval("Array.from(document.querySelectorAll('#view svg g.node')).map(g => g.getAttribute('class')).join(';')", as: "lineage.classes")
        plan.eval("document.querySelector('#view .settlement').innerText", as: "lineage.settlement")
        plan.eval("Array.from(document.querySelectorAll('#view a[href^=\"#/tx/\"]')).map(a => a.getAttribute('href')).pop()", as: "lineage.lastTx")
        plan.eval(tamperedChecks(cert: root, beneficiary: beneficiary, program: program), as: "tampered")
        plan.open(route("certificate", pieces[2]), as: "piece")
        // A node that alters an answer (a holder) and whose tree has a cycle back to the root and a shared piece: the
        // page shows its answer under a red badge, one box per piece, and does not loop.
        plan.eval("""
            window.__realGet = Trellis.get;
            Trellis.get = async (target, options) => {
              const a = await window.__realGet(target, options);
              if (String(target).startsWith('/v1/query/provenance')) {
                const p = JSON.parse(JSON.stringify(a));
                p.result.block.owner = 'mallory';
                return p;
              }
              if (!String(target).startsWith('/v1/query/lineage')) return a;
              const t = JSON.parse(JSON.stringify(a)), d = t.result.descendants;
              d[0].holder = 'mallory';
              d[d.length - 1].children = [t.result.certificate.cert_id, d[0].cert_id];
              return t;
            };
            true
            """, as: "tamper")
        plan.open(route("certificate", root), as: "tampered-lineage")
        plan.eval("document.querySelectorAll('#view svg g.node').length", as: "tampered-lineage.boxes")
        plan.open(route("provenance", program, "42"), as: "tampered-provenance")
        plan.eval("Trellis.get = window.__realGet; true", as: "untamper")
        // (Another page first: setting the same hash again would not show the page anew.)
        plan.open(route("retirements", beneficiary), as: "retirements")
        plan.open(route("provenance", program, "42"), as: "provenance")
        plan.eval("Array.from(document.querySelectorAll('#view [data-step]')).map(e => e.getAttribute('data-step')).join(',')", as: "provenance.steps")
        plan.open(route("member", member), as: "member")
        plan.open("#/blocks", as: "blocks", settled: false)
        plan.open(route("certificate", "cert-0000000000"), as: "unknown")
        plan.open("#/nowhere", as: "nowhere")
        // Nothing the demo wrote ran or became an element.
        plan.eval("[typeof window.__pwned, document.querySelectorAll('#view img, #view script, #view b, #view i').length].join(',')", as: "pwned")
        let first = try runBrowser(plan)
        let r = first.results

        #expect((r["status.proof"] as? String) == "verified", "status page: \(r["status.text"] ?? "")")
        #expect((r["status.text"] as? String ?? "").contains("Chain trellis-example-1"))
        let refusal = r["anonymous-lineage.text"] as? String ?? ""
        #expect(refusal.contains("Could not load certificate") && refusal.contains("needs the scope party") && refusal.contains("paste one under “Key”"), "anonymous lineage: \(refusal)")
        #expect((r["key.link"] as? String) == "Key: regulator")

        for page in ["lineage", "piece", "provenance", "retirements", "member"] {
            let text = r["\(page).text"] as? String ?? ""
            // The provenance page has two proved answers: the serial's provenance and its retirement.
            let badges = page == "provenance" ? "verified,verified" : "verified"
            #expect((r["\(page).proof"] as? String) == badges, "\(page): \(r["\(page).proof"] ?? "nil") \(text.prefix(600))")
            // Every answer is re-derived from its proved records, and the badge says so.
            #expect(text.contains("The answer below is derived from "), "\(page): \(text.prefix(600))")
            #expect(!text.contains("not re-derived"), "\(page): \(text.prefix(600))")
        }
        // The tree: the root and its four pieces, one box each; the live leaves are settled; the payouts sum to the face.
        #expect((r["lineage.boxes"] as? Int) == 5)
        #expect((r["lineage.certs"] as? String) == ([root] + pieces).sorted().joined(separator: ","))
        #expect((r["lineage.classes"] as? String ?? "").components(separatedBy: "settled live").count - 1 == 3, "\(r["lineage.classes"] ?? "")")
        let settlement = r["lineage.settlement"] as? String ?? ""
        #expect(settlement.contains("settled") && settlement.contains("bank") && settlement.contains("supplier3"), "\(settlement)")
        #expect((r["lineage.text"] as? String ?? "").contains(contract), "the contract number is shown as its text")
        #expect((r["lineage.text"] as? String ?? "").contains(reportTitle), "the trade documents' attestation is shown, proved")
        #expect((r["piece.text"] as? String ?? "").contains("Certificate \(pieces[2])"))
        let tamperedLineage = r["tampered-lineage.text"] as? String ?? ""
        #expect((r["tampered-lineage.proof"] as? String) == "failed", "an altered answer loses its badge: \(tamperedLineage.prefix(600))")
        #expect(tamperedLineage.contains("the answer is not what its proved records hold") && tamperedLineage.contains("mallory"), "\(tamperedLineage.prefix(800))")
        #expect((r["tampered-lineage.boxes"] as? Int) == 5, "a cycle or a shared piece is drawn once: \(r["tampered-lineage.boxes"] ?? "nil")")
        // The last card: why supplier1's block was frozen and unfrozen (event_reasons, read from the transactions).
        #expect((r["provenance.steps"] as? String) == "serial,methodology,project,verification,verifier_accreditations,report_attestation,batch,history,block,retirement,transfers,event_reasons")
        // The retirement of serial 42, proved on its own: the demo's beneficiary and purpose (HTML) shown as text.
        let provenance = r["provenance.text"] as? String ?? ""
        #expect(provenance.contains(beneficiary) && provenance.contains(purpose) && provenance.contains("credits.retire") && provenance.contains(reportTitle),
                "provenance: \(provenance.prefix(1500))")
        let freezeReason = try #require(story["freeze_reason"] as? String)
        #expect(provenance.contains("Reasons (read from the transactions, not proved)") && provenance.contains("asset.freeze\t") && provenance.contains(freezeReason)
                && provenance.contains("asset.unfreeze\t") && provenance.contains("dispute settled"), "provenance reasons: \(provenance.suffix(800))")
        let tamperedProvenance = r["tampered-provenance.text"] as? String ?? ""
        #expect((r["tampered-provenance.proof"] as? String) == "failed,verified", "an altered provenance loses its badge: \(r["tampered-provenance.proof"] ?? "nil") \(tamperedProvenance.prefix(600))")
        #expect(tamperedProvenance.contains("the answer is not what its proved records hold: block.owner") && tamperedProvenance.contains("mallory"), "\(tamperedProvenance.prefix(800))")
        let retirements = r["retirements.text"] as? String ?? ""
        #expect(retirements.contains(beneficiary) && retirements.contains(purpose), "retirements: \(retirements.prefix(800))")
        #expect((r["member.text"] as? String ?? "").contains(memberName), "the legal name is shown as its text")
        #expect((r["blocks.text"] as? String ?? "").contains("height\ttime\ttransactions"))
        #expect((r["unknown.text"] as? String ?? "").contains("no certificate \"cert-0000000000\""), "\(r["unknown.text"] ?? "")")
        #expect((r["nowhere.text"] as? String ?? "").contains("there is no page “nowhere”"))
        #expect((r["pwned"] as? String) == "undefined,0")
        for page in ["status", "anonymous-lineage", "lineage", "piece", "tampered-lineage", "provenance", "tampered-provenance", "retirements", "member", "blocks", "unknown"] {
            #expect((r["\(page).pwned"] as? String) == "undefined,0", "\(page): \(r["\(page).pwned"] ?? "nil")")
        }
        // The browser's checks, run on tampered answers, fail (red), and on the genuine ones pass.
        let tampered = try #require(r["tampered"] as? [String: Any], "tampered: \(r["tampered"] ?? "nil")")
        #expect(tampered["genuine"] as? String == "certified", "\(tampered)")
        #expect(tampered["genuineProofs"] as? String == "ok", "\(tampered)")
        for name in ["forgedHeader", "wrongHeight", "badSignature", "unknownSigner", "duplicateSigner", "noSigners", "noCertificate"] {
            #expect(tampered[name] as? String == "invalid", "\(name): \(tampered[name] ?? "nil") — \(tampered)")
        }
        #expect(tampered["genuineInclusion"] as? String == "ok", "\(tampered)")
        for name in ["flippedProof", "forgedHeaderProofs", "badSignatureProofs", "forgedInclusion", "noCanonicalBytes", "otherTxBytes"] {
            #expect(tampered[name] as? String == "failed", "\(name): \(tampered[name] ?? "nil") — \(tampered)")
        }
        #expect(tampered["unknownSet"] as? String == "unchecked", "\(tampered)")
        #expect(tampered["staleCurrentSet"] as? String == "certified", "the set of the block's height is used, not the current one: \(tampered)")
        for name in ["forgedSet", "undecodableSet"] { #expect(tampered[name] as? String == "invalid", "\(name): \(tampered)") }
        #expect(tampered["genuineAnswer"] as? String == "ok", "\(tampered)")
        #expect(tampered["genuineRetirements"] as? String == "ok", "\(tampered)")
        #expect(tampered["genuineProvenance"] as? String == "ok", "\(tampered)")
        #expect(tampered["genuineRetirement"] as? String == "ok", "\(tampered)")
        for name in ["alteredHolder", "droppedPiece", "alteredPayout", "unprovedRecord", "alteredPurpose", "inflatedTotal", "listedTwice",
                     "alteredOwner", "alteredTransfer", "droppedAncestor", "consumedBlock", "otherBatch", "alteredIssuer", "alteredAccreditation",
                     "unprovedVerification", "alteredAttestation", "unbackedField", "alteredRetirement", "retirementOfAnotherSerial"] {
            #expect(tampered[name] as? String == "failed", "\(name): \(tampered[name] ?? "nil") — \(tampered)")
        }
        #expect(tampered["genuineReceipt"] as? String == "ok+receipt", "\(tampered)")
        for name in ["alteredReceipt", "receiptOtherIndex"] { #expect(tampered[name] as? String == "failed", "\(name): \(tampered)") }
        #expect(tampered["receiptNoPath"] as? String == "failed", "a receipt without its path is not checked, and fails: \(tampered)")
        #expect(tampered["decodedMatches"] as? String == "true,true,true,true", "\(tampered)")

        // A transaction of the lineage: decoded payload and its inclusion in the certified block.
        let txRoute = try #require(r["lineage.lastTx"] as? String)
        var second = Plan()
        second.load(api + "/explorer/")
        second.open("#/key", as: "key2", settled: false)
        second.eval("document.getElementById('key-text').value = \(js(regulatorKey)); document.getElementById('key-use').click(); true", as: "paste")
        second.steps.append(["wait": "document.getElementById('key-link').textContent === 'Key: regulator'", "timeout": 120])
        second.open(txRoute, as: "transaction")
        second.eval("document.querySelector('#view .payload').innerText", as: "transaction.payload")
        second.eval("document.querySelector('#view .pieces') === null", as: "transaction.noPieces")
        // The split and the credit transfer: which new id went to whom, from the checked bytes and receipt.
        let splitTx = try #require(story["split_tx"] as? String), creditTransferTx = try #require(story["credit_transfer_tx"] as? String)
        second.open(route("tx", splitTx), as: "split")
        second.eval("Array.from(document.querySelectorAll('#view .pieces tbody tr')).map(r => Array.from(r.cells).map(c => c.innerText).join('|')).join(';')", as: "split.rows")
        second.eval("document.querySelector('#view .pieces p').innerText", as: "split.note")
        second.eval("Array.from(document.querySelectorAll('#view .pieces a')).map(a => a.getAttribute('href')).join(',')", as: "split.links")
        // A rejected certificate's lineage: the reason of the rejection, read from its transaction, shown as text.
        let rejected = try #require(story["rejected"] as? String), rejectReason = try #require(story["reject_reason"] as? String)
        second.open(route("certificate", rejected), as: "rejected")
        second.eval("Array.from(document.querySelectorAll('#view table')).pop().innerText", as: "rejected.history")
        second.open(route("tx", creditTransferTx), as: "creditTransfer")
        second.eval("Array.from(document.querySelectorAll('#view .pieces tbody tr')).map(r => Array.from(r.cells).map(c => c.innerText).join('|')).join(';')", as: "creditTransfer.rows")
        let tx = try runBrowser(second).results
        #expect((tx["transaction.proof"] as? String) == "verified", "transaction: \(tx["transaction.text"] ?? "")")
        #expect((tx["transaction.text"] as? String ?? "").contains("Included in the certified block at height "), "transaction: \(tx["transaction.text"] ?? "")")
        #expect((tx["transaction.text"] as? String ?? "").contains("its receipt is leaf "), "the outcome is proved too: \(tx["transaction.text"] ?? "")")
        #expect((tx["transaction.pwned"] as? String) == "undefined,0")
        #expect((tx["transaction.text"] as? String ?? "").contains("certificate.settle"))
        #expect((tx["transaction.payload"] as? String ?? "").contains(root), "payload: \(tx["transaction.payload"] ?? "")")
        #expect((tx["transaction.noPieces"] as? Bool) == true, "a settlement has no pieces table")
        #expect((tx["split.proof"] as? String) == "verified", "split: \(tx["split.text"] ?? "")")
        #expect((tx["split.rows"] as? String) == "\(pieces[0])|supplier2|600|pending_accept;\(pieces[1])|supplier1|400|active", "split: \(tx["split.rows"] ?? "nil") \(tx["split.text"] ?? "")")
        #expect((tx["split.note"] as? String ?? "").contains("decoded here from the checked bytes and receipt"), "\(tx["split.note"] ?? "nil")")
        #expect((tx["split.links"] as? String) == [route("certificate", pieces[0]), route("member", "supplier2"), route("certificate", pieces[1]), route("member", "supplier1")].joined(separator: ","),
                "\(tx["split.links"] ?? "nil")")
        let creditBlock = try #require(story["credit_block"] as? String), keptBlock = try #require(story["kept_block"] as? String)
        #expect((tx["creditTransfer.rows"] as? String) == "\(creditBlock)|supplier1|300;\(keptBlock)|proponent|600", "credit transfer: \(tx["creditTransfer.rows"] ?? "nil") \(tx["creditTransfer.text"] ?? "")")
        for page in ["split", "creditTransfer", "rejected"] { #expect((tx["\(page).pwned"] as? String) == "undefined,0") }
        let history = tx["rejected.history"] as? String ?? ""
        #expect(history.contains("reason (read from the transaction, not proved)") && history.contains("certificate.reject") && history.contains(rejectReason),
                "the rejected piece's history: \(history) — \(tx["rejected.text"] ?? "")")

        // The CLI's JSON answers for the same chain: `audit export --json` and `audit prove --json` (then checked).
        let out = CLI.temporaryDirectory()
        let export = try CLI.run(["audit", "export", "--node", api, "--key", net.key("regulator"), "--out", out + "/chain.jsonl", "--json"])
        let exported = json(export.stdout)
        #expect(export.status == 0 && (exported["blocks"] as? Int ?? 0) > 20 && (exported["transactions"] as? Int ?? 0) >= 19, "\(export.stdout) \(export.stderr)")
        #expect(exported["file"] as? String == out + "/chain.jsonl" && exported["format"] as? String == "trellis-chain-export" && exported["version"] as? Int == 2)
        let prove = try CLI.run(["audit", "prove", "--node", api, "--key", net.key("regulator"), "--state", "cert/\(root)", "--out", out + "/cert.proof", "--json"])
        let proved = json(prove.stdout)
        #expect(prove.status == 0 && proved["kind"] as? String == "state" && (proved["height"] as? Int ?? 0) > 0 && proved["file"] as? String == out + "/cert.proof", "\(prove.stdout) \(prove.stderr)")
        let check = try CLI.run(["audit", "check-proof", out + "/cert.proof", "--genesis", net.dir + "/genesis.json"])
        #expect(check.status == 0, "\(check.stdout) \(check.stderr)")
    }

    /// A real validator-set change on a live 4-validator testnet — `validator.add` of a fifth key (its node never runs:
    /// four of five votes are still a quorum) and then `validator.remove` of validator 4 — and the explorer, in the
    /// browser, verifies the certificates of a block from each of the three sets against the set in force at that
    /// block's height (sent with the block, matched against its header): 4, then 5, then 4 validators. Checked with
    /// only the set the node reports now, the first two eras' blocks are "not checked" (that set was not in force
    /// then), and a block sent with another era's set is a red failure.
    @Test(.enabled(if: BrowserSupport.available, Comment(rawValue: BrowserSupport.unavailableReason ?? "")))
    func certificatesVerifyAgainstTheSetOfTheirHeightAcrossAValidatorSetChange() async throws {
        try await OwnThread.run { try certificatesVerifyAgainstTheSetOfTheirHeightAcrossAValidatorSetChangeBody() }
    }

    /// The test, synchronous (it blocks on processes): run on a thread of its own by `OwnThread`.
    func certificatesVerifyAgainstTheSetOfTheirHeightAcrossAValidatorSetChangeBody() throws {
        let net = try LocalTestnet.start(nodes: 4)  // ports from TestPorts
        defer { net.stop() }
        let api = net.apis[0], members = net.dir + "/members"
        let testnet = json((try? String(contentsOfFile: net.dir + "/testnet.json", encoding: .utf8)) ?? "")
        let nodeKeys = (testnet["nodes"] as? [[String: Any]] ?? []).compactMap { $0["public_key"] as? String }
        try #require(nodeKeys.count == 4, "testnet.json: \(testnet)")
        let generated = try CLI.run(["keys", "generate", "--out", net.dir + "/fifth-validator.key"])
        try #require(generated.status == 0, "keys generate: \(generated.stderr)")
        let fifth = generated.stdout.trimmingCharacters(in: .whitespacesAndNewlines)

        try #require(waitUntil(60) { E2E.height(api) >= 2 }, "the testnet commits no blocks")
        let first = E2E.height(api)  // certified by the genesis set {1, 2, 3, 4}
        let added = try E2E.govern("{\"type\":\"validator.add\",\"public_key\":\"\(fifth)\",\"voting_power\":1,\"p2p_address\":\"127.0.0.1:\(net.basePort + 9)\"}",
                                   api: api, members: members)
        try #require(waitUntil(120) { E2E.height(api) >= added + 3 }, "the chain stopped after adding a validator (height \(E2E.height(api)))")
        let second = added + 3  // {1, 2, 3, 4, 5}: in force two blocks after the approval
        let removed = try E2E.govern("{\"type\":\"validator.remove\",\"public_key\":\"\(nodeKeys[3])\"}", api: api, members: members)
        try #require(waitUntil(120) { E2E.height(api) >= removed + 3 }, "the chain stopped after removing a validator (height \(E2E.height(api)))")
        let third = removed + 3  // {1, 2, 3, 5}
        let current = (get(api + "/v1/status")["validators"] as? [[String: Any]] ?? []).compactMap { $0["public_key"] as? String }
        #expect(Set(current) == Set(nodeKeys.prefix(3) + [fifth]), "the set now: \(current)")

        var plan = Plan()
        plan.load(api + "/explorer/")
        for (name, height) in [("era1", first), ("era2", second), ("era3", third)] { plan.open(route("block", String(height)), as: name) }
        plan.open("#/", as: "validators")
        plan.eval("""
            (async () => {
              const T = Trellis, now = (await T.get('/v1/status', { anonymous: true })).validators, out = {}, blocks = {};
              for (const [name, h] of [['era1', \(first)], ['era2', \(second)], ['era3', \(third)]]) {
                const b = await T.get('/v1/blocks/' + h);
                blocks[name] = b;
                const r = await T.checkBlockSafely(b, now);
                out[name] = [r.status, r.validatorCount, r.signed, r.setSource].join(',');
                // Without the set sent with the block, only the set reported now is there to check against.
                out[name + 'WithoutItsSet'] = (await T.checkBlockSafely({ ...b, validator_set_hex: undefined }, now)).status;
                out[name + 'SetHash'] = T.decodeHeader(T.fromHex(b.header_hex)).validator_set_hash;
              }
              out.era1WithEra2Set = (await T.checkBlockSafely({ ...blocks.era1, validator_set_hex: blocks.era2.validator_set_hex }, now)).status;
              out.era3WithEra1Set = (await T.checkBlockSafely({ ...blocks.era3, validator_set_hex: blocks.era1.validator_set_hex }, now)).status;
              return out;
            })()
            """, as: "eras")
        let r = try runBrowser(plan).results

        for (name, validators) in [("era1", 4), ("era2", 5), ("era3", 4)] {
            let text = r["\(name).text"] as? String ?? ""
            #expect((r["\(name).proof"] as? String) == "verified", "\(name): \(text.prefix(600))")
            #expect(text.contains("of the \(validators) validators in force at this height"), "\(name): \(text.prefix(600))")
        }
        let status = r["validators.text"] as? String ?? ""
        #expect((r["validators.proof"] as? String) == "verified", "status: \(status.prefix(600))")
        #expect(status.contains("Validators (4)") && status.contains(String(fifth.prefix(8))) && !status.contains(String(nodeKeys[3].prefix(8))), "status: \(status.prefix(1200))")
        let eras = try #require(r["eras"] as? [String: Any], "eras: \(r["eras"] ?? "nil")")
        #expect(["certified,4,3,block", "certified,4,4,block"].contains(eras["era1"] as? String ?? ""), "three or four of the genesis four sign: \(eras)")
        #expect(eras["era2"] as? String == "certified,5,4,block", "four of five validators sign while the fifth never runs: \(eras)")
        #expect(eras["era3"] as? String == "certified,4,3,block", "\(eras)")
        #expect(Set([eras["era1SetHash"] as? String, eras["era2SetHash"] as? String, eras["era3SetHash"] as? String]).count == 3, "three different sets: \(eras)")
        #expect(eras["era1WithoutItsSet"] as? String == "unchecked" && eras["era2WithoutItsSet"] as? String == "unchecked", "\(eras)")
        #expect(eras["era3WithoutItsSet"] as? String == "certified", "the set reported now is the third era's: \(eras)")
        #expect(eras["era1WithEra2Set"] as? String == "invalid" && eras["era3WithEra1Set"] as? String == "invalid", "\(eras)")
    }

    /// The page decodes state records with `RECORD_LAYOUTS` (trellis.js), written beside the ledger's Swift types: here
    /// the ledger encodes a sample of every green-asset and evidence record the provenance and lineage pages re-derive
    /// (each optional both present and absent, u64 values past 2⁵³, text with HTML and non-ASCII), and the browser
    /// decodes the canonical bytes by the layouts alone; each decoded value must be the JSON the API writes for that
    /// record, field by field (`Trellis.firstDifference`). A field added, dropped or moved in an `encode(to:)` without
    /// the layout following fails here, without a testnet. A text that starts with U+FEFF decodes with it (TextDecoder's
    /// default strips a leading byte-order mark).
    @Test(.enabled(if: BrowserSupport.available, Comment(rawValue: BrowserSupport.unavailableReason ?? "")))
    func theRecordLayoutsDecodeWhatTheLedgerEncodes() async throws {
        try await OwnThread.run { try theRecordLayoutsDecodeWhatTheLedgerEncodesBody() }
    }

    /// The test, synchronous (it blocks on processes): run on a thread of its own by `OwnThread`.
    func theRecordLayoutsDecodeWhatTheLedgerEncodesBody() throws {
        let hash = SHA256.hash(Array("report".utf8)), other = SHA256.hash(Array("tx".utf8))
        let event = AssetEvent(kind: "credits.transfer", height: 9_007_199_254_740_993, time: -5, txHash: other, actor: "supplier<b>1</b>")
        var samples: [(type: String, bytes: [UInt8], json: Data)] = []
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]  // as the API writes query answers
        func add<T: Encodable>(_ type: String, _ value: T, _ canonical: (T) -> [UInt8]) throws { samples.append((type, canonical(value), try encoder.encode(value))) }
        try add("Program", Program(programID: "CCER", unit: .mwh, serialCounter: .max - 1, registeredBy: "registry")) { $0.canonicalBytes }
        try add("Methodology", Methodology(methodologyID: "AMS-I.D", version: "18.0", title: "Grid <i>renewable</i> 电力", active: false)) { $0.canonicalBytes }
        // A text that starts with U+FEFF keeps it (a decoder that takes it for a byte-order mark drops it).
        try add("Methodology", Methodology(methodologyID: "AMS-III.B", version: "1.0", title: "\u{FEFF}BOM-led title", active: true)) { $0.canonicalBytes }
        let project = Project(projectID: "wind-7", proponent: "proponent", programID: "CCER", methodologyID: "AMS-I.D", methodologyVersion: "18.0", country: "CN",
                              location: "Gansu", deviceIDs: ["T-1", "T-2"], sector: "energy", creditingStart: -1, creditingEnd: .max, externalIDs: [],
                              registeredBy: "registry", registeredAt: 1_767_225_600)
        try add("Project", project) { $0.canonicalBytes }
        var verified = project
        verified.lastVerifiedEnd = 1_767_225_601
        try add("Project", verified) { $0.canonicalBytes }
        try add("Verification", Verification(verID: "ver-1", projectID: "wind-7", verifier: "verifier", accreditationScheme: "ISO-14065", periodStart: 1, periodEnd: 2,
                                             quantity: 1_000, reportHash: hash, verifiedAt: 3, height: 4)) { $0.canonicalBytes }
        try add("Verification", Verification(verID: "ver-2", projectID: "wind-7", verifier: "verifier", accreditationScheme: "ISO-14065", periodStart: 1, periodEnd: 2,
                                             quantity: .max, reportHash: hash, verifiedAt: 3, height: 4, batchID: "batch-1")) { $0.canonicalBytes }
        try add("Batch", Batch(batchID: "batch-1", programID: "CCER", projectID: "wind-7", verID: "ver-2", vintage: 2025, serialStart: 1, serialEnd: .max - 1,
                               bufferQuantity: 100, issuedBy: "registry", issuedAt: 5, height: 6)) { $0.canonicalBytes }
        try add("CreditBlock", CreditBlock(blockID: "cblock-1", batchID: "batch-1", programID: "CCER", serialStart: 1, serialEnd: 900, owner: "proponent", status: .consumed,
                                           children: ["cblock-2", "cblock-3"], events: [event, event])) { $0.canonicalBytes }
        try add("CreditBlock", CreditBlock(blockID: "cblock-2", batchID: "batch-1", programID: "CCER", serialStart: 1, serialEnd: 100, owner: "supplier1", status: .retired,
                                           frozen: true, parentID: "cblock-1", retirementID: "ret-1", events: [event])) { $0.canonicalBytes }
        try add("Retirement", Retirement(retID: "ret-1", ranges: [RetiredRange(blockID: "cblock-2", batchID: "batch-1", projectID: "wind-7", vintage: 2025, serialStart: 1,
                                                                               serialEnd: 100, serialText: "CCER-MWh-CN-wind-7-2025-1-100")],
                                         retiredBy: "supplier1", beneficiary: "<img src=x>Acme", purpose: "scope 2", claimPeriodStart: 0, claimPeriodEnd: 1, time: 7, height: 8, txHash: other)) { $0.canonicalBytes }
        let attestations = [
            Attestation(attester: "verifier", title: "Report <b>2025</b>", metadata: [EvidenceMetadataEntry(key: "period", value: "2025"), EvidenceMetadataEntry(key: "a", value: "b")],
                        refs: [EvidenceRef(kind: .verification, id: "ver-2"), EvidenceRef(kind: .project, id: "wind-7")], height: 10, time: 11, txHash: other,
                        withdrawal: EvidenceWithdrawal(height: 12, time: 13, txHash: hash, reason: "superseded")),
            Attestation(attester: "registry", title: "", metadata: [], refs: [], height: 14, time: 15, txHash: hash),
        ]
        try add("EvidenceRecord", EvidenceRecord(docHash: hash, docKind: .verificationReport, attestations: attestations)) { $0.canonicalBytes }
        try add("EvidenceRecord", EvidenceRecord(docHash: hash, docKind: .billOfLading, attestations: [attestations[0]])) { $0.canonicalBytes }

        let script = try String(contentsOfFile: CLI.repositoryRoot + "/Sources/TrellisAPI/Explorer/trellis.js", encoding: .utf8)
        let cases = samples.map { "[\(js($0.type)), \(js(Hex.encode($0.bytes))), \(js(String(decoding: $0.json, as: UTF8.self)))]" }.joined(separator: ",\n")
        var plan = Plan()
        plan.steps.append(["goto": "about:blank"])
        plan.eval("(0, eval)(\(js(script + "\n;window.Trellis = Trellis;"))); typeof Trellis", as: "loaded")
        plan.eval("""
            [\(cases)].map(([type, hex, json]) => {
              try {
                const decoded = Trellis.decodeRecord(Trellis.fromHex(hex), type);
                return `${type}: ${Trellis.firstDifference(type === 'EvidenceRecord' ? Trellis.evidenceView(decoded) : decoded, JSON.parse(json), type) || 'same'}`;
              } catch (e) { return `${type}: ${e.message}`; }
            })
            """, as: "decoded")
        let r = try runBrowser(plan).results
        #expect(r["loaded"] as? String == "object")
        let decoded = r["decoded"] as? [String] ?? []
        #expect(decoded.count == samples.count, "\(r)")
        for line in decoded { #expect(line.hasSuffix(": same"), "\(line)") }
    }

    /// A browser expression running Trellis.checkBlock / checkProofs / checkInclusion on the node's genuine answers
    /// and on tampered copies (a flipped proof byte, a forged header, a wrong height, a bad signature, an unknown or
    /// duplicate signer, no signers, no certificate, an unknown validator set, a transaction without or with other
    /// bytes); answers {name: "certified"|"unchecked"|"invalid"} for blocks and {name: "ok"|"partial"|"failed"} for
    /// proofs and inclusion. Needs a key that reads `cert` (the regulator's).
    private func tamperedChecks(cert: String, beneficiary: String, program: String) -> String {
        """
        (async () => {
          const T = Trellis, out = {};
          const flip = (hex, i) => hex.slice(0, i * 2) + (parseInt(hex.substr(i * 2, 2), 16) ^ 1).toString(16).padStart(2, '0') + hex.slice(i * 2 + 2);
          const vals = (await T.get('/v1/status', { anonymous: true })).validators;
          const answer = await T.get('/v1/query/lineage' + T.query({ cert: \(js(cert)), prove: 'true' }));
          const reads = answer.proofs, height = reads[0].height;
          const b = await T.get('/v1/blocks/' + height);
          const cert = b.certificate, sigs = cert.signatures;
          const withCert = (c) => ({ ...b, certificate: { ...cert, ...c } });
          const block = async (x, v = vals) => (await T.checkBlockSafely(x, v)).status;
          const proofs = async (rs, x = b) => { const r = await T.checkProofs(rs, vals, async () => x); return r.ok ? 'ok' : r.partial ? 'partial' : 'failed'; };
          out.genuine = await block(b);
          out.genuineProofs = await proofs(reads);
          const forged = { ...b, header_hex: flip(b.header_hex, b.header_hex.length / 2 - 1) };
          out.forgedHeader = await block(forged);
          out.wrongHeight = await block(withCert({ height: Number(cert.height) + 1 }));
          const badSig = withCert({ signatures: [{ ...sigs[0], signature: flip(sigs[0].signature, 7) }, ...sigs.slice(1)] });
          out.badSignature = await block(badSig);
          out.unknownSigner = await block(withCert({ signatures: [...sigs, { validator: 'ab'.repeat(32), signature: sigs[0].signature }] }));
          out.duplicateSigner = await block(withCert({ signatures: [...sigs, sigs[0]] }));
          out.noSigners = await block(withCert({ signatures: [] }));
          out.noCertificate = await block({ ...b, certificate: undefined });
          // The set of the block's height comes with the block (validator_set_hex): the set reported now does not
          // matter (after a set change old blocks still verify); a set that is not the header's is a forgery; without
          // one, a current set that does not match leaves the certificate unchecked.
          const otherSet = [{ public_key: 'cd'.repeat(32), voting_power: 1, p2p_address: 'x:1' }];
          out.staleCurrentSet = await block(b, otherSet);
          out.unknownSet = await block({ ...b, validator_set_hex: undefined }, otherSet);
          out.forgedSet = await block({ ...b, validator_set_hex: flip(b.validator_set_hex, 4 + 32 + 7) });
          out.undecodableSet = await block({ ...b, validator_set_hex: b.validator_set_hex + '00' });
          // The answer is re-derived from its proved records: a field the node altered, a piece it dropped, or a
          // record it did not prove fails the check although every proof verifies.
          const answerCheck = async (a, derive) => { const r = await T.checkAnswer(a, vals, derive, async () => b); return r.ok ? 'ok' : r.partial ? 'partial' : 'failed'; };
          const copy = (x) => JSON.parse(JSON.stringify(x));
          out.genuineAnswer = await answerCheck(answer, T.deriveLineage(\(js(cert))));
          const alteredHolder = copy(answer); alteredHolder.result.descendants[0].holder = 'mallory';
          out.alteredHolder = await answerCheck(alteredHolder, T.deriveLineage(\(js(cert))));
          const droppedPiece = copy(answer); droppedPiece.result.descendants.pop();
          out.droppedPiece = await answerCheck(droppedPiece, T.deriveLineage(\(js(cert))));
          const alteredPayout = copy(answer); alteredPayout.result.root.payouts[0].amount += 1;
          out.alteredPayout = await answerCheck(alteredPayout, T.deriveLineage(\(js(cert))));
          const unproved = copy(answer); unproved.proofs = unproved.proofs.filter((r) => !r.key.startsWith('certroot/'));
          out.unprovedRecord = await answerCheck(unproved, T.deriveLineage(\(js(cert))));
          const statement = await T.get('/v1/query/retirements' + T.query({ beneficiary: \(js(beneficiary)), prove: 'true' }));
          const retBlock = await T.get('/v1/blocks/' + statement.proofs[0].height);
          const retirementCheck = async (a) => { const r = await T.checkAnswer(a, vals, T.deriveRetirements(\(js(beneficiary))), async () => retBlock); return r.ok ? 'ok' : r.partial ? 'partial' : 'failed'; };
          out.genuineRetirements = await retirementCheck(statement);
          const alteredPurpose = copy(statement); alteredPurpose.result.retirements[0].purpose = 'greenwashing';
          out.alteredPurpose = await retirementCheck(alteredPurpose);
          const inflated = copy(statement); inflated.result.total_quantity += 1;
          out.inflatedTotal = await retirementCheck(inflated);
          const twice = copy(statement); twice.result.retirements.push(twice.result.retirements[0]);
          out.listedTwice = await retirementCheck(twice);
          // A serial's provenance is re-derived from its records too: issuance, verification, every block the serial
          // passed through and its events, the block holding it now; its retirement from the retirement's record.
          const provenance = await T.get('/v1/query/provenance' + T.query({ program: \(js(program)), serial: '42', prove: 'true' }));
          const provBlock = await T.get('/v1/blocks/' + provenance.proofs[0].height);
          const provenanceCheck = async (a) => { const r = await T.checkAnswer(a, vals, T.deriveProvenance(\(js(program)), '42'), async () => provBlock); return r.ok ? 'ok' : r.partial ? 'partial' : 'failed'; };
          out.genuineProvenance = await provenanceCheck(provenance);
          const alteredOwner = copy(provenance); alteredOwner.result.block.owner = 'mallory';
          out.alteredOwner = await provenanceCheck(alteredOwner);
          const alteredTransfer = copy(provenance); alteredTransfer.result.transfers[0].event.actor = 'mallory';
          out.alteredTransfer = await provenanceCheck(alteredTransfer);
          const droppedAncestor = copy(provenance); droppedAncestor.result.history.shift();
          out.droppedAncestor = await provenanceCheck(droppedAncestor);
          const consumedBlock = copy(provenance); consumedBlock.result.block = consumedBlock.result.history[0];
          out.consumedBlock = await provenanceCheck(consumedBlock);
          const otherBatch = copy(provenance); otherBatch.result.batch.batch_id = otherBatch.result.verification.ver_id;
          out.otherBatch = await provenanceCheck(otherBatch);
          const alteredIssuer = copy(provenance); alteredIssuer.result.batch.issued_by = 'mallory';
          out.alteredIssuer = await provenanceCheck(alteredIssuer);
          const alteredAccreditation = copy(provenance); alteredAccreditation.result.verifier_accreditations = [];
          out.alteredAccreditation = await provenanceCheck(alteredAccreditation);
          const unprovedVerification = copy(provenance); unprovedVerification.proofs = unprovedVerification.proofs.filter((r) => !r.key.startsWith('verification/'));
          out.unprovedVerification = await provenanceCheck(unprovedVerification);
          const alteredAttestation = copy(provenance); alteredAttestation.result.report_attestation.attestations[0].attester = 'mallory';
          out.alteredAttestation = await provenanceCheck(alteredAttestation);
          const unbacked = copy(provenance); unbacked.result.verified_by_regulator = true;
          out.unbackedField = await provenanceCheck(unbacked);
          const retirementID = provenance.result.block.retirement_id;
          const single = await T.get('/v1/query/retirements' + T.query({ retirement: retirementID, prove: 'true' }));
          const singleBlock = await T.get('/v1/blocks/' + single.proofs[0].height);
          const singleCheck = async (a, serial) => { const r = await T.checkAnswer(a, vals, T.deriveRetirement(retirementID, provenance.result.block.block_id, serial), async () => singleBlock); return r.ok ? 'ok' : r.partial ? 'partial' : 'failed'; };
          out.genuineRetirement = await singleCheck(single, 42);
          const alteredRetirement = copy(single); alteredRetirement.result.retirements[0].beneficiary = 'mallory';
          out.alteredRetirement = await singleCheck(alteredRetirement, 42);
          out.retirementOfAnotherSerial = await singleCheck(single, 500);
          const i = reads.findIndex((r) => r.value_hex !== null && r.value_hex !== undefined);
          const flipped = reads.map((r, j) => (j === i ? { ...r, proof_hex: flip(r.proof_hex, r.proof_hex.length / 2 - 1) } : r));
          out.flippedProof = await proofs(flipped);
          out.forgedHeaderProofs = await proofs(reads, forged);
          out.badSignatureProofs = await proofs(reads, badSig);
          const txHeight = (await T.get('/v1/status', { anonymous: true })).height;
          let included = null;
          for (let hh = txHeight; hh >= 1 && !included; hh--) {
            const bb = await T.get('/v1/blocks/' + hh);
            if (Array.isArray(bb.transactions) && bb.transactions.length) included = { block: bb, tx: bb.transactions[0], height: hh };
          }
          const inclusion = async (hash, hex, x) => { const r = await T.checkInclusion(hash, hex, included.height, vals, async () => x); return r.ok ? 'ok' : r.partial ? 'partial' : 'failed'; };
          const canonical = (await T.get('/v1/tx/' + included.tx.hash)).transaction.canonical_hex;
          out.genuineInclusion = await inclusion(included.tx.hash, canonical, included.block);
          out.forgedInclusion = await inclusion(included.tx.hash, canonical, { ...included.block, header_hex: flip(included.block.header_hex, included.block.header_hex.length / 2 - 1) });
          out.noCanonicalBytes = await inclusion(included.tx.hash, undefined, included.block);
          out.otherTxBytes = await inclusion(included.tx.hash, flip(canonical, 3), included.block);
          // The receipt (the outcome) is proved against receipts_root too.
          const looked = await T.get('/v1/tx/' + included.tx.hash);
          const withReceipt = async (hex, path) => { const r = await T.checkInclusion(included.tx.hash, canonical, included.height, vals, async () => included.block, { receipt_hex: hex, receipt_path: path }); return (r.ok ? 'ok' : r.partial ? 'partial' : 'failed') + (r.receipt && r.receipt.ok ? '+receipt' : ''); };
          out.genuineReceipt = await withReceipt(looked.receipt_hex, looked.receipt_path);
          out.alteredReceipt = await withReceipt(flip(looked.receipt_hex, looked.receipt_hex.length / 2 - 1), looked.receipt_path);
          out.receiptOtherIndex = await withReceipt(looked.receipt_hex.slice(0, 64) + '000003e7' + looked.receipt_hex.slice(72), looked.receipt_path);
          out.receiptNoPath = await withReceipt(looked.receipt_hex, undefined);
          // The fields shown are decoded from the canonical bytes, not taken from the JSON.
          const decoded = await T.decodeTransaction(canonical);
          out.decodedMatches = [decoded.hash === included.tx.hash, decoded.kind === looked.transaction.kind, decoded.signer === looked.transaction.signer,
            JSON.stringify(decoded.payload) === JSON.stringify(looked.transaction.payload)].join(',');
          return out;
        })()
        """
    }

    /// Runs a plan in headless Chromium; requires that every step passed.
    private func runBrowser(_ plan: Plan) throws -> (results: [String: Any], raw: [String: Any]) {
        let file = CLI.temporaryDirectory() + "/plan.json"
        try JSONSerialization.data(withJSONObject: ["steps": plan.steps]).write(to: URL(fileURLWithPath: file))
        let run = try CLI.runProcess(BrowserSupport.python!, [CLI.repositoryRoot + "/Scripts/browser.py", file])
        let answer = json(run.stdout)
        try #require(run.status == 0 && answer["ok"] as? Bool == true,
                     "browser: exit \(run.status): \(answer["failed"] ?? run.stdout.prefix(2000)) exceptions \(answer["exceptions"] ?? []) page \(((answer["results"] as? [String: Any])?["_view_text"]) ?? "") \(run.stderr.prefix(1000))")
        #expect((answer["exceptions"] as? [Any])?.isEmpty ?? true, "the page threw: \(answer["exceptions"] ?? [])")
        return (answer["results"] as? [String: Any] ?? [:], answer)
    }
}
