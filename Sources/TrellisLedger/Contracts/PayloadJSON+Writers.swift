// PayloadJSON+Writers.swift — direct JSON writers (PayloadJSONWriter.swift) for the membership and receivables
// payloads: each writes its keys in sorted order with the values its `Encodable` conformance gives them (optionals
// left out when nil, enums as their raw value, hashes and keys as lowercase hex). `PayloadJSONWriterTests` holds
// each of them to `JSONEncoder`'s bytes. Kinds without a writer here take the `Encodable` path.
import TrellisCrypto

extension RotateKeysPayload {
    public func writeJSON(into w: inout PayloadJSONWriter) -> Bool {
        w.raw("{\"add_keys\":"); w.hexList(addKeys)
        w.raw(",\"remove_keys\":"); w.hexList(removeKeys)
        w.raw("}")
        return true
    }
}

extension CreditLineSetPayload {
    public func writeJSON(into w: inout PayloadJSONWriter) -> Bool {
        w.raw("{\"core\":"); w.string(core)
        w.raw(",\"expiry\":"); w.number(expiry)
        w.raw(",\"limit\":"); w.number(limit)
        w.raw(",\"line_id\":"); w.string(lineID)
        w.raw("}")
        return true
    }
}

extension TradeRef {
    func writeJSON(into w: inout PayloadJSONWriter) {
        w.raw("{\"contract_no\":"); w.string(contractNo)
        w.raw(",\"doc_hash\":"); w.hex(docHash)
        if let greenRef {
            w.raw(",\"green_ref\":{\"id\":"); w.string(greenRef.id)
            w.raw(",\"kind\":"); w.string(greenRef.kind.rawValue)
            w.raw("}")
        }
        w.raw(",\"invoice_keys\":"); w.strings(invoiceKeys)
        w.raw("}")
    }
}

extension CertificateIssuePayload {
    public func writeJSON(into w: inout PayloadJSONWriter) -> Bool {
        w.raw("{\"credit_line_id\":"); w.string(creditLineID)
        w.raw(",\"face\":"); w.number(face)
        w.raw(",\"holder\":"); w.string(holder)
        w.raw(",\"maturity\":"); w.number(maturity)
        w.raw(",\"trade_ref\":"); tradeRef.writeJSON(into: &w)
        w.raw("}")
        return true
    }
}

extension CertificateRefPayload {
    public func writeJSON(into w: inout PayloadJSONWriter) -> Bool {
        w.raw("{\"cert_id\":"); w.string(certID)
        w.raw("}")
        return true
    }
}

extension CertificateRejectPayload {
    public func writeJSON(into w: inout PayloadJSONWriter) -> Bool {
        w.raw("{\"cert_id\":"); w.string(certID)
        w.raw(",\"reason\":"); w.string(reason)
        w.raw("}")
        return true
    }
}

extension CertificateSplitTransferPayload {
    public func writeJSON(into w: inout PayloadJSONWriter) -> Bool {
        w.raw("{\"cert_id\":"); w.string(certID)
        w.raw(",\"outputs\":")
        w.array(outputs) { w, output in
            w.raw("{\"amount\":"); w.number(output.amount)
            w.raw(",\"to\":"); w.string(output.to)
            w.raw("}")
        }
        w.raw("}")
        return true
    }
}

extension FinancingRequestPayload {
    public func writeJSON(into w: inout PayloadJSONWriter) -> Bool {
        w.raw("{\"advance\":"); w.number(advance)
        w.raw(",\"cert_id\":"); w.string(certID)
        w.raw(",\"financier\":"); w.string(financier)
        w.raw(",\"kind\":"); w.string(kind.rawValue)
        w.raw(",\"rate_bps\":"); w.number(rateBps)
        w.raw(",\"recourse\":"); w.bool(recourse)
        w.raw("}")
        return true
    }
}

extension FinancingRefPayload {
    public func writeJSON(into w: inout PayloadJSONWriter) -> Bool {
        w.raw("{\"fin_id\":"); w.string(finID)
        w.raw("}")
        return true
    }
}

extension RootRefPayload {
    public func writeJSON(into w: inout PayloadJSONWriter) -> Bool {
        w.raw("{\"root_id\":"); w.string(rootID)
        w.raw("}")
        return true
    }
}

extension AssetFreezePayload {
    public func writeJSON(into w: inout PayloadJSONWriter) -> Bool {
        w.raw("{\"asset_id\":"); w.string(assetID)
        w.raw(",\"asset_type\":"); w.string(assetType.rawValue)
        w.raw(",\"reason\":"); w.string(reason)
        w.raw("}")
        return true
    }
}
