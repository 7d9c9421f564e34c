// PayloadSamples.swift — one JSON payload per transaction kind (governance: one per action type), as the API and
// `trellis tx send --payload` take them. The fuzz corpus is seeded from these (FuzzCorpus.swift), and
// TrellisFuzzingTests checks that every kind has a sample that converts to canonical bytes, so the seeds cannot
// rot silently when a payload changes.
enum PayloadSamples {
    static let docHash = String(repeating: "ab", count: 32)

    /// (kind, JSON payload) pairs; a kind may appear more than once.
    static func all(validatorKey: String) -> [(kind: String, json: String)] {
        [
            ("credit_line.set", #"{"core":"core1","expiry":1798761600,"limit":1000000,"line_id":"line1"}"#),
            ("certificate.issue", #"{"credit_line_id":"line1","face":100000,"holder":"sup1","maturity":1775000000,"trade_ref":{"contract_no":"PO-7","doc_hash":"\#(docHash)","invoice_keys":["INV-1","INV-2"]}}"#),
            ("certificate.issue", #"{"credit_line_id":"line1","face":1,"holder":"sup1","maturity":1775000000,"trade_ref":{"contract_no":"PO-8","doc_hash":"\#(docHash)","green_ref":{"id":"wind-7","kind":"project"},"invoice_keys":["INV-3"]}}"#),
            ("certificate.accept", #"{"cert_id":"cert-1"}"#),
            ("certificate.reject", #"{"cert_id":"cert-1","reason":"wrong amount"}"#),
            ("certificate.reclaim", #"{"cert_id":"cert-1"}"#),
            ("certificate.split_transfer", #"{"cert_id":"cert-1","outputs":[{"amount":60000,"to":"sup2"},{"amount":40000,"to":"sup1"}]}"#),
            ("financing.request", #"{"advance":95000,"cert_id":"cert-1","financier":"bank1","kind":"factoring","rate_bps":450,"recourse":true}"#),
            ("financing.approve", #"{"fin_id":"fin-1"}"#),
            ("financing.cancel", #"{"fin_id":"fin-1"}"#),
            ("financing.release", #"{"fin_id":"fin-1"}"#),
            ("financing.repay", #"{"fin_id":"fin-1"}"#),
            ("certificate.settle", #"{"root_id":"cert-1"}"#),
            ("certificate.mark_overdue", #"{"root_id":"cert-1"}"#),
            ("asset.freeze", #"{"asset_id":"cblock-1","asset_type":"credit_block","reason":"court order"}"#),
            ("asset.unfreeze", #"{"asset_id":"cert-1","asset_type":"certificate","reason":"lifted"}"#),
            ("program.register", #"{"program_id":"CCER","unit":"tCO2e"}"#),
            ("methodology.register", #"{"active":true,"methodology_id":"AM0001","title":"Renewable power","version":"1.2"}"#),
            ("project.register", #"{"country":"CN","crediting_end":2019686400,"crediting_start":1704067200,"device_ids":["T-1","T-2"],"external_ids":["VCS-99"],"location":"Gansu","methodology_id":"AM0001","methodology_version":"1.2","program_id":"CCER","project_id":"wind-7","sector":"energy"}"#),
            ("verification.submit", #"{"period_end":1719792000,"period_start":1704067200,"project_id":"wind-7","quantity":12345,"report_hash":"\#(docHash)"}"#),
            ("credits.issue", #"{"buffer_quantity":345,"quantity":12345,"verification_id":"ver-1"}"#),
            ("credits.transfer", #"{"block_id":"cblock-1","outputs":[{"quantity":300,"to":"buyer1"},{"quantity":12000,"to":"prop1"}]}"#),
            ("credits.retire", #"{"beneficiary":"Acme","claim_period_end":1735689599,"claim_period_start":1704067200,"purpose":"2024 claim","ranges":[{"block_id":"cblock-1","serial_end":200,"serial_start":101},{"block_id":"cblock-2"}]}"#),
            ("credits.cancel", #"{"block_id":"cblock-1","reason":"reversal"}"#),
            ("credits.lock", #"{"block_id":"cblock-1","reason":"export"}"#),
            ("credits.unlock", #"{"block_id":"cblock-1","reason":"back"}"#),
            ("member.rotate_keys", #"{"add_keys":["\#(validatorKey)"],"remove_keys":[]}"#),
            ("governance.propose", #"{"action":{"member":{"accreditations":[],"legal_name":"New Ltd","member_id":"new1","public_keys":["\#(validatorKey)"],"registration_no":"REG-9","roles":["supplier"]},"type":"member.add"},"summary":"admit new1"}"#),
            ("governance.propose", #"{"action":{"member_id":"sup2","type":"member.suspend"},"summary":"suspend"}"#),
            ("governance.propose", #"{"action":{"member_id":"sup2","type":"member.reinstate"},"summary":"reinstate"}"#),
            ("governance.propose", #"{"action":{"member_id":"sup2","type":"member.revoke"},"summary":"revoke"}"#),
            ("governance.propose", #"{"action":{"member_id":"sup2","roles":["financier","supplier"],"type":"member.set_roles"},"summary":"roles"}"#),
            ("governance.propose", #"{"action":{"accreditation":{"active":true,"scheme":"CNAS","sectoral_scopes":["energy"],"valid_from":1700000000,"valid_to":1900000000},"member_id":"ver1","type":"verifier.accredit"},"summary":"accredit"}"#),
            ("governance.propose", #"{"action":{"member_id":"ver1","scheme":"CNAS","type":"verifier.revoke"},"summary":"revoke accreditation"}"#),
            ("governance.propose", #"{"action":{"p2p_address":"10.0.0.5:26656","public_key":"\#(validatorKey)","type":"validator.add","voting_power":1},"summary":"add validator"}"#),
            ("governance.propose", #"{"action":{"public_key":"\#(validatorKey)","type":"validator.remove"},"summary":"remove validator"}"#),
            ("governance.propose", #"{"action":{"parameters":{"accept_window_seconds":604800,"governance_quorum":2,"grace_period_seconds":2592000,"max_maturity_seconds":31536000,"max_tx_lifetime_blocks":10000,"proposal_ttl_blocks":100000},"type":"parameters.set"},"summary":"parameters"}"#),
            ("governance.propose", #"{"action":{"block_id":"cblock-1","reason":"double issuance","type":"credits.approve_cancel"},"summary":"cancel"}"#),
            ("governance.propose", #"{"action":{"name":"auditor full node","public_key":"\#(validatorKey)","type":"observer.add"},"summary":"observer"}"#),
            ("governance.propose", #"{"action":{"public_key":"\#(validatorKey)","type":"observer.remove"},"summary":"no observer"}"#),
            ("governance.approve", #"{"proposal_id":"prop-1"}"#),
            ("governance.propose", #"{"action":{"activation_height":5000,"description":"paged settlement (release 1.4)","type":"upgrade.schedule","version":2},"summary":"rules v2"}"#),
            ("evidence.attest", #"{"doc_hash":"\#(docHash)","doc_kind":"invoice","metadata":{"invoice_no":"INV-1","seller":"sup1"},"refs":[{"id":"cert-1","kind":"certificate"}],"title":"Invoice INV-1"}"#),
            ("evidence.attest", #"{"doc_hash":"\#(String(repeating: "cd", count: 32))","doc_kind":"bill_of_lading","title":"B/L 7"}"#),
            ("evidence.revoke", #"{"doc_hash":"\#(docHash)","reason":"superseded"}"#),
        ]
    }
}
