// PayloadJSON+Writers.swift — direct JSON writers (PayloadJSONWriter.swift) for the membership, receivables and
// green-asset payloads: each writes its keys in sorted order with the values its `Encodable` conformance gives them (optionals
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

// MARK: green assets

extension ProgramRegisterPayload {
    public func writeJSON(into w: inout PayloadJSONWriter) -> Bool {
        w.raw("{\"program_id\":"); w.string(programID)
        w.raw(",\"unit\":"); w.string(unit.rawValue)
        w.raw("}")
        return true
    }
}

extension MethodologyRegisterPayload {
    public func writeJSON(into w: inout PayloadJSONWriter) -> Bool {
        w.raw("{\"active\":"); w.bool(active)
        w.raw(",\"methodology_id\":"); w.string(methodologyID)
        w.raw(",\"title\":"); w.string(title)
        w.raw(",\"version\":"); w.string(version)
        w.raw("}")
        return true
    }
}

extension ProjectRegisterPayload {
    public func writeJSON(into w: inout PayloadJSONWriter) -> Bool {
        w.raw("{\"country\":"); w.string(country)
        w.raw(",\"crediting_end\":"); w.number(creditingEnd)
        w.raw(",\"crediting_start\":"); w.number(creditingStart)
        w.raw(",\"device_ids\":"); w.strings(deviceIDs)
        w.raw(",\"external_ids\":"); w.strings(externalIDs)
        w.raw(",\"location\":"); w.string(location)
        w.raw(",\"methodology_id\":"); w.string(methodologyID)
        w.raw(",\"methodology_version\":"); w.string(methodologyVersion)
        w.raw(",\"program_id\":"); w.string(programID)
        w.raw(",\"project_id\":"); w.string(projectID)
        w.raw(",\"sector\":"); w.string(sector)
        w.raw("}")
        return true
    }
}

extension VerificationSubmitPayload {
    public func writeJSON(into w: inout PayloadJSONWriter) -> Bool {
        w.raw("{\"period_end\":"); w.number(periodEnd)
        w.raw(",\"period_start\":"); w.number(periodStart)
        w.raw(",\"project_id\":"); w.string(projectID)
        w.raw(",\"quantity\":"); w.number(quantity)
        w.raw(",\"report_hash\":"); w.hex(reportHash)
        w.raw("}")
        return true
    }
}

extension CreditsIssuePayload {
    public func writeJSON(into w: inout PayloadJSONWriter) -> Bool {
        w.raw("{\"buffer_quantity\":"); w.number(bufferQuantity)
        w.raw(",\"quantity\":"); w.number(quantity)
        w.raw(",\"verification_id\":"); w.string(verificationID)
        w.raw("}")
        return true
    }
}

extension CreditsTransferPayload {
    public func writeJSON(into w: inout PayloadJSONWriter) -> Bool {
        w.raw("{\"block_id\":"); w.string(blockID)
        w.raw(",\"outputs\":")
        w.array(outputs) { w, output in
            w.raw("{\"quantity\":"); w.number(output.quantity)
            w.raw(",\"to\":"); w.string(output.to)
            w.raw("}")
        }
        w.raw("}")
        return true
    }
}

extension CreditsRetirePayload {
    public func writeJSON(into w: inout PayloadJSONWriter) -> Bool {
        w.raw("{\"beneficiary\":"); w.string(beneficiary)
        w.raw(",\"claim_period_end\":"); w.number(claimPeriodEnd)
        w.raw(",\"claim_period_start\":"); w.number(claimPeriodStart)
        w.raw(",\"purpose\":"); w.string(purpose)
        w.raw(",\"ranges\":")
        w.array(ranges) { w, range in
            w.raw("{\"block_id\":"); w.string(range.blockID)
            if let serialEnd = range.serialEnd { w.raw(",\"serial_end\":"); w.number(serialEnd) }
            if let serialStart = range.serialStart { w.raw(",\"serial_start\":"); w.number(serialStart) }
            w.raw("}")
        }
        w.raw("}")
        return true
    }
}

extension CreditsBlockActionPayload {
    public func writeJSON(into w: inout PayloadJSONWriter) -> Bool {
        w.raw("{\"block_id\":"); w.string(blockID)
        w.raw(",\"reason\":"); w.string(reason)
        w.raw("}")
        return true
    }
}
