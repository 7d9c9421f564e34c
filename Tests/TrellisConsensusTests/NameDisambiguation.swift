// NameDisambiguation.swift — TrellisLedger has a governance `Proposal`; in these tests "Proposal" is the consensus one.
import TrellisConsensus

typealias Proposal = TrellisConsensus.Proposal
