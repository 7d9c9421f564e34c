// OpenAPIDocument.swift — the API's OpenAPI 3.1 description, served at GET /v1/openapi.json. The same document is
// docs/openapi.json in the repository; OpenAPITests checks that the two are equal and that the routes the router
// serves and the paths described here match both ways.
enum OpenAPIDocument {
    static let json = #"""
{
  "components": {
    "parameters": {
      "Height": {
        "description": "Answer as of this committed height (default: the latest).",
        "in": "query",
        "name": "height",
        "required": false,
        "schema": {
          "$ref": "#/components/schemas/UInt64"
        }
      },
      "Prove": {
        "description": "true: include state proofs.",
        "in": "query",
        "name": "prove",
        "required": false,
        "schema": {
          "enum": [
            "true",
            "false",
            "1",
            "0"
          ],
          "type": "string"
        }
      }
    },
    "responses": {
      "Forbidden": {
        "content": {
          "application/json": {
            "schema": {
              "$ref": "#/components/schemas/Error"
            }
          }
        },
        "description": "403: forbidden (the caller lacks the route's scope; the message names the route's pattern and the scope, never the object — another member's object and an absent one get the same answer), member_inactive (a suspended or revoked member's key)."
      },
      "JSONError": {
        "content": {
          "application/json": {
            "schema": {
              "$ref": "#/components/schemas/Error"
            }
          }
        },
        "description": "JSON error"
      },
      "NonceWindowFull": {
        "content": {
          "application/json": {
            "schema": {
              "$ref": "#/components/schemas/Error"
            }
          }
        },
        "description": "503: nonce_window_full — the node remembers [api] max_request_nonces live nonces; retry in a few seconds."
      },
      "Overloaded": {
        "content": {
          "application/json": {
            "schema": {
              "$ref": "#/components/schemas/Error"
            }
          }
        },
        "description": "overloaded or signer_backlog: admission control refused (Retry-After says when to retry)",
        "headers": {
          "Retry-After": {
            "description": "seconds",
            "schema": {
              "type": "integer"
            }
          }
        }
      },
      "StatePruned": {
        "content": {
          "application/json": {
            "schema": {
              "$ref": "#/components/schemas/Error"
            }
          }
        },
        "description": "state_pruned: the height is outside the node's proof window (the message names the window)"
      },
      "TooManySignedRequests": {
        "content": {
          "application/json": {
            "schema": {
              "$ref": "#/components/schemas/Error"
            }
          }
        },
        "description": "429: too_many_signed_requests — the member is over its share of the nonce window ([api] max_request_nonces_per_member); Retry-After says when to try again.",
        "headers": {
          "Retry-After": {
            "description": "seconds",
            "schema": {
              "type": "integer"
            }
          }
        }
      },
      "Unauthorized": {
        "content": {
          "application/json": {
            "schema": {
              "$ref": "#/components/schemas/Error"
            }
          }
        },
        "description": "401: authentication_required (the route needs a scope and the request is unsigned), invalid_credentials (missing, repeated, malformed or oversized Trellis-* headers), stale_credentials (timestamp outside the skew window), invalid_signature (the same whether the member exists or not), replayed_nonce."
      }
    },
    "schemas": {
      "Error": {
        "properties": {
          "error": {
            "properties": {
              "code": {
                "type": "string"
              },
              "message": {
                "type": "string"
              }
            },
            "required": [
              "code",
              "message"
            ],
            "type": "object"
          }
        },
        "required": [
          "error"
        ],
        "type": "object"
      },
      "Id": {
        "description": "A member, certificate, programme, … id: 1–128 bytes.",
        "maxLength": 128,
        "minLength": 1,
        "type": "string"
      },
      "Int64": {
        "description": "A signed 64-bit integer (Unix seconds).",
        "maximum": 9223372036854775807,
        "minimum": -9223372036854775808,
        "type": "integer"
      },
      "Sha256Hex": {
        "description": "A SHA-256 as 64 hex digits.",
        "pattern": "^[0-9a-fA-F]{64}$",
        "type": "string"
      },
      "UInt64": {
        "description": "An unsigned 64-bit integer (heights, serials).",
        "maximum": 18446744073709551615,
        "minimum": 0,
        "type": "integer"
      }
    },
    "securitySchemes": {
      "TrellisMember": {
        "description": "The member id the request is signed for (1–128 bytes of [A-Za-z0-9._:-]), or @operator for the node's own key. One of the four headers of a signed request (docs/ACCESS.md): send all four or none.",
        "in": "header",
        "name": "Trellis-Member",
        "type": "apiKey"
      },
      "TrellisNonce": {
        "description": "16–64 characters of [A-Za-z0-9_-], fresh for every request; a (member, nonce) pair is accepted once within the window.",
        "in": "header",
        "name": "Trellis-Nonce",
        "type": "apiKey"
      },
      "TrellisSignature": {
        "description": "128 hex digits: the Ed25519 signature, with one of the member's active keys, over \"trellis/v1/api\" 0x00 chain_id 0x00 str(member) str(method) str(path) str(query) SHA-256(body) i64(timestamp) str(nonce) (docs/ACCESS.md, byte for byte with a worked example).",
        "in": "header",
        "name": "Trellis-Signature",
        "type": "apiKey"
      },
      "TrellisTimestamp": {
        "description": "Unix seconds when the request was signed, decimal (at most 20 characters); refused beyond [api] request_skew_s (default 300) of the node's clock.",
        "in": "header",
        "name": "Trellis-Timestamp",
        "type": "apiKey"
      }
    }
  },
  "info": {
    "description": "The HTTP/JSON API of a Trellis node (docs/ARCHITECTURE.md, \"HTTP API\"). Every error is {\"error\": {\"code\", \"message\"}} with the HTTP status given; unknown routes answer 404 not_found. Who may read what: under the default read policy (consortium) reads are signed with a member key in the four Trellis-* headers (securitySchemes, all four together) and each route answers what the caller's scope allows — public, member, party, read_all or operator; docs/ACCESS.md has the table. Unsigned reads get the public part or 401.",
    "title": "Trellis node API",
    "version": "1"
  },
  "openapi": "3.1.0",
  "paths": {
    "/explorer": {
      "get": {
        "operationId": "explorer",
        "responses": {
          "200": {
            "content": {
              "text/html": {
                "schema": {
                  "type": "string"
                }
              }
            },
            "description": "the explorer's HTML page"
          }
        },
        "security": [
          {}
        ],
        "summary": "The web explorer's page (index.html; docs/EXPLORER.md). Public: it holds no chain data, it reads this API with the visitor's key."
      }
    },
    "/explorer/{file}": {
      "get": {
        "operationId": "explorerFile",
        "parameters": [
          {
            "in": "path",
            "name": "file",
            "required": true,
            "schema": {
              "enum": [
                "index.html",
                "explorer.css",
                "explorer.js",
                "trellis.js"
              ],
              "type": "string"
            }
          }
        ],
        "responses": {
          "200": {
            "content": {
              "text/css": {
                "schema": {
                  "type": "string"
                }
              },
              "text/html": {
                "schema": {
                  "type": "string"
                }
              },
              "text/javascript": {
                "schema": {
                  "type": "string"
                }
              }
            },
            "description": "the file"
          },
          "404": {
            "$ref": "#/components/responses/JSONError"
          }
        },
        "security": [
          {}
        ],
        "summary": "One of the explorer's static files (public)."
      }
    },
    "/health": {
      "get": {
        "operationId": "health",
        "responses": {
          "200": {
            "content": {
              "application/json": {
                "examples": {
                  "ok": {
                    "summary": "GET /health",
                    "value": {
                      "status": "ok"
                    }
                  }
                },
                "schema": {
                  "type": "object"
                }
              }
            },
            "description": "{\"status\": \"ok\"}"
          },
          "503": {
            "content": {
              "application/json": {
                "schema": {
                  "type": "object"
                }
              }
            },
            "description": "{\"status\": \"halted\", \"reason\"}"
          }
        },
        "security": [
          {}
        ],
        "summary": "Liveness: ok, or 503 once consensus halted for good."
      }
    },
    "/metrics": {
      "get": {
        "description": "Scope operator: signed with the node's own key as @operator, or — for Prometheus, which cannot sign — Authorization: Bearer <the token in the node's [api] metrics_token_file> (this route only; every other route ignores that header). A wrong bearer token, or one sent to a node without a token file, answers 401 invalid_credentials (docs/ACCESS.md).",
        "operationId": "metrics",
        "responses": {
          "200": {
            "content": {
              "text/plain": {
                "schema": {
                  "type": "string"
                }
              }
            },
            "description": "Prometheus text format 0.0.4"
          },
          "401": {
            "$ref": "#/components/responses/Unauthorized"
          },
          "403": {
            "$ref": "#/components/responses/Forbidden"
          },
          "429": {
            "$ref": "#/components/responses/TooManySignedRequests"
          },
          "503": {
            "$ref": "#/components/responses/NonceWindowFull"
          }
        },
        "summary": "Prometheus text exposition (docs/OPERATIONS.md §8)."
      }
    },
    "/v1/blocks/{height}": {
      "get": {
        "operationId": "block",
        "parameters": [
          {
            "description": "a height or latest",
            "in": "path",
            "name": "height",
            "required": true,
            "schema": {
              "pattern": "^([0-9]{1,19}|latest)$",
              "type": "string"
            }
          }
        ],
        "responses": {
          "200": {
            "content": {
              "application/json": {
                "examples": {
                  "public": {
                    "summary": "GET /v1/blocks/1 unsigned: header, certificates, transaction hashes",
                    "value": {
                      "certificate": {
                        "block_id": "2cdd8cc313a100d9714cfa93943afd170a62b1cb99ab52fce0f04f5cd3988987",
                        "canonical_hex": "0000000000000001000000002cdd8cc313a100d9714cfa93943afd170a62b1cb…",
                        "height": 1,
                        "round": 0,
                        "signatures": [
                          {
                            "signature": "712a961af48f818fca098230fb39dee0dee570256424b0dcf4f8c5e5a35b47173683a350dd0fa8ba5ab3979b06887cbf5f01deb5d95fbb0ee0d95ba77a382a03",
                            "validator": "a4e369617c481d7392531237c2bd89072f67803c383944b2b30e95ab17ad6926"
                          }
                        ]
                      },
                      "evidence_count": 0,
                      "header": {
                        "app_version": 1,
                        "chain_id": "trellis-example-1",
                        "evidence_hash": "df3f619804a92fdb4057192dc43dd748ea778adc52bc498ce80524c014b81119",
                        "hash": "2cdd8cc313a100d9714cfa93943afd170a62b1cb99ab52fce0f04f5cd3988987",
                        "height": 1,
                        "last_commit_hash": "0000000000000000000000000000000000000000000000000000000000000000",
                        "next_validator_set_hash": "6e92c40e08f8b40fb5fcc41ad60980c34cc07a5b2f5514e7b226a7b4b297ef00",
                        "previous_block_hash": "2a6227d17e3befb156d585f2de08bc1de2574b5e77851fdd1e00fb2e81107153",
                        "proposer": "a4e369617c481d7392531237c2bd89072f67803c383944b2b30e95ab17ad6926",
                        "receipts_root": "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
                        "round": 0,
                        "state_root": "2f73f0470ad84d6e2b068ce5b8a822626f5be13af6f1edd7f83fc9bae0f5454a",
                        "time": 1796455804,
                        "tx_count": 0,
                        "tx_root": "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
                        "validator_set_hash": "6e92c40e08f8b40fb5fcc41ad60980c34cc07a5b2f5514e7b226a7b4b297ef00"
                      },
                      "header_hex": "000000117472656c6c69732d6578616d706c652d310000000000000001000000…",
                      "transaction_hashes": [],
                      "validator_set_hex": "00000001a4e369617c481d7392531237c2bd89072f67803c383944b2b30e95ab17ad692600000000000000010000000e3132372e302e302e313a39313030"
                    }
                  },
                  "regulator": {
                    "summary": "GET /v1/blocks/29 signed by a regulator: transactions decoded",
                    "value": {
                      "canonical_hex": "000000117472656c6c69732d6578616d706c652d31000000000000001d000000…",
                      "certificate": {
                        "block_id": "14f81a5a534908e06ac319da722f2559a28b7ca589b7f4a8ff5f5cb8b0c5e054",
                        "canonical_hex": "000000000000001d0000000014f81a5a534908e06ac319da722f2559a28b7ca5…",
                        "height": 29,
                        "round": 0,
                        "signatures": [
                          {
                            "signature": "7b48a8459d9074a48bdf699c78a0b11ad69bebf82b23c0320c5108990f9f6a2c9c2ff0742b1e0be4fedb818aac63635674f1c24d517544c12f4a5c71ff0caa09",
                            "validator": "a4e369617c481d7392531237c2bd89072f67803c383944b2b30e95ab17ad6926"
                          }
                        ]
                      },
                      "evidence_count": 0,
                      "header": {
                        "app_version": 1,
                        "chain_id": "trellis-example-1",
                        "evidence_hash": "df3f619804a92fdb4057192dc43dd748ea778adc52bc498ce80524c014b81119",
                        "hash": "14f81a5a534908e06ac319da722f2559a28b7ca589b7f4a8ff5f5cb8b0c5e054",
                        "height": 29,
                        "last_commit_hash": "90a8085dc9f113c3ef9859efcb969d32ce0d45fefd3b1613ed7e925ba5f9eb4f",
                        "next_validator_set_hash": "6e92c40e08f8b40fb5fcc41ad60980c34cc07a5b2f5514e7b226a7b4b297ef00",
                        "previous_block_hash": "0a2040a1bd92a6c91e8cb523b0cac429f7594e75d66ae42531a68d88c2e4ec70",
                        "proposer": "a4e369617c481d7392531237c2bd89072f67803c383944b2b30e95ab17ad6926",
                        "receipts_root": "efceaf8f119bb9e92c7297bc942b6b414bfe7fced8ac78c7f63e6854096c7de7",
                        "round": 0,
                        "state_root": "6e649dc815c6e36d2629205176e223ad43e075d25ec4b50453753f65ab9ce4f6",
                        "time": 1796455833,
                        "tx_count": 1,
                        "tx_root": "bda4834b73eec958f8b8babc3e8a9eea15c937e1d5f8ed0a4c60f56db57d8027",
                        "validator_set_hash": "6e92c40e08f8b40fb5fcc41ad60980c34cc07a5b2f5514e7b226a7b4b297ef00"
                      },
                      "header_hex": "000000117472656c6c69732d6578616d706c652d31000000000000001d000000…",
                      "last_commit": {
                        "block_id": "0a2040a1bd92a6c91e8cb523b0cac429f7594e75d66ae42531a68d88c2e4ec70",
                        "canonical_hex": "000000000000001c000000000a2040a1bd92a6c91e8cb523b0cac429f7594e75…",
                        "height": 28,
                        "round": 0,
                        "signatures": [
                          {
                            "signature": "aa5537ce35d2834542b79339f18b72755fc0245e98e5230e5fe6d8fb698212506de66953f0866c070cd7a9bbcefc1168f63b6e344bb21a537d4df32ed1488702",
                            "validator": "a4e369617c481d7392531237c2bd89072f67803c383944b2b30e95ab17ad6926"
                          }
                        ]
                      },
                      "transactions": [
                        {
                          "canonical_hex": "000000117472656c6c69732d6578616d706c652d31000000126d656d6265722e…",
                          "chain_id": "trellis-example-1",
                          "cosigners": [],
                          "expires_at_height": 1028,
                          "hash": "cc5e2f65419508b3072a0424b2465812fa2e24204d0049b385d12e2c2008022d",
                          "kind": "member.rotate_keys",
                          "nonce": 5,
                          "payload": {
                            "add_keys": [
                              "ae3a86e11d8eabfa2229e9f34673a3466bd5a14eceb146fe6aba285510517498"
                            ],
                            "remove_keys": []
                          },
                          "payload_hex": "00000001ae3a86e11d8eabfa2229e9f34673a3466bd5a14eceb146fe6aba28551051749800000000",
                          "signatures": [
                            {
                              "member_id": "supplier1",
                              "public_key": "0d4773ba97ce9b147fba03cc6a6ece773f3177e4d796d97ef55a7f4c5c365ae7",
                              "signature": "2a26083e45bbbb0b70210cb822f5281371e5f513ec7a1266b305c7e1e5a2aac0ba4e61512bc66e9131227827d362fc992e6207a1fc4ee68f1f47a3807179b401"
                            }
                          ],
                          "signer": "supplier1"
                        }
                      ],
                      "validator_set_hex": "00000001a4e369617c481d7392531237c2bd89072f67803c383944b2b30e95ab17ad692600000000000000010000000e3132372e302e302e313a39313030"
                    }
                  }
                },
                "schema": {
                  "type": "object"
                }
              }
            },
            "description": "header, transactions, last_commit, certificate, canonical_hex"
          },
          "400": {
            "$ref": "#/components/responses/JSONError"
          },
          "401": {
            "$ref": "#/components/responses/Unauthorized"
          },
          "403": {
            "$ref": "#/components/responses/Forbidden"
          },
          "404": {
            "content": {
              "application/json": {
                "examples": {
                  "missing": {
                    "summary": "GET /v1/blocks/1001475",
                    "value": {
                      "error": {
                        "code": "not_found",
                        "message": "no block at height 1001475"
                      }
                    }
                  }
                },
                "schema": {
                  "$ref": "#/components/schemas/Error"
                }
              }
            },
            "description": "JSON error"
          },
          "429": {
            "$ref": "#/components/responses/TooManySignedRequests"
          },
          "503": {
            "$ref": "#/components/responses/NonceWindowFull"
          }
        },
        "summary": "A committed block with its certificate."
      }
    },
    "/v1/events": {
      "get": {
        "operationId": "events",
        "parameters": [
          {
            "description": "first height (default 1)",
            "in": "query",
            "name": "from",
            "required": false,
            "schema": {
              "maximum": 18446744073709551615,
              "minimum": 1,
              "type": "integer"
            }
          }
        ],
        "responses": {
          "200": {
            "content": {
              "text/event-stream": {
                "schema": {
                  "type": "string"
                }
              }
            },
            "description": "text/event-stream"
          },
          "400": {
            "$ref": "#/components/responses/JSONError"
          },
          "401": {
            "$ref": "#/components/responses/Unauthorized"
          },
          "403": {
            "$ref": "#/components/responses/Forbidden"
          },
          "429": {
            "$ref": "#/components/responses/TooManySignedRequests"
          },
          "503": {
            "$ref": "#/components/responses/NonceWindowFull"
          }
        },
        "summary": "Server-sent events: one block event per committed block."
      }
    },
    "/v1/genesis": {
      "get": {
        "operationId": "genesis",
        "responses": {
          "200": {
            "content": {
              "application/json": {
                "examples": {
                  "genesis": {
                    "summary": "GET /v1/genesis (the chain's genesis.json)",
                    "value": {
                      "chain_id": "trellis-example-1",
                      "genesis_time": 1767225600,
                      "members": [
                        {
                          "accreditations": [],
                          "legal_name": "Example Commercial Bank",
                          "member_id": "bank",
                          "public_keys": [
                            "69649bc4f620e2efc32fee6d5ed6a05f110c10ae79bc7cb90b239da9b9eb8d7b"
                          ],
                          "registration_no": "91310000MA1BANK001",
                          "roles": [
                            "financier"
                          ]
                        },
                        {
                          "accreditations": [],
                          "legal_name": "Example Clearing House",
                          "member_id": "clearing",
                          "public_keys": [
                            "4bd91d3483dd257c74bacc3b42f2ed8fdd6351b19cbb61f5463ad265ddc92236"
                          ],
                          "registration_no": "91310000MA1CLEAR01",
                          "roles": [
                            "clearing_agent"
                          ]
                        },
                        {
                          "accreditations": [],
                          "legal_name": "Core Manufacturing Co., Ltd.",
                          "member_id": "core",
                          "public_keys": [
                            "e79c00e5429c68028f3a139250e0d79cff4d81354e15f1a30a7bc39bab5b0d0b"
                          ],
                          "registration_no": "91310000MA1CORE001",
                          "roles": [
                            "core_enterprise"
                          ]
                        },
                        "…"
                      ],
                      "parameters": {
                        "accept_window_seconds": 604800,
                        "governance_quorum": 2,
                        "grace_period_seconds": 2592000,
                        "max_maturity_seconds": 31536000,
                        "max_tx_lifetime_blocks": 10000,
                        "min_upgrade_lead_blocks": 100,
                        "proposal_ttl_blocks": 100000
                      },
                      "validators": [
                        {
                          "name": "validator1",
                          "p2p_address": "127.0.0.1:9100",
                          "public_key": "a4e369617c481d7392531237c2bd89072f67803c383944b2b30e95ab17ad6926",
                          "voting_power": 1
                        }
                      ]
                    }
                  }
                },
                "schema": {
                  "type": "object"
                }
              }
            },
            "description": "genesis.json"
          },
          "401": {
            "$ref": "#/components/responses/Unauthorized"
          },
          "403": {
            "$ref": "#/components/responses/Forbidden"
          },
          "429": {
            "$ref": "#/components/responses/TooManySignedRequests"
          },
          "503": {
            "$ref": "#/components/responses/NonceWindowFull"
          }
        },
        "summary": "The chain's genesis document."
      }
    },
    "/v1/openapi.json": {
      "get": {
        "operationId": "openapi",
        "responses": {
          "200": {
            "content": {
              "application/json": {
                "schema": {
                  "type": "object"
                }
              }
            },
            "description": "OpenAPI 3.1 document"
          }
        },
        "security": [
          {}
        ],
        "summary": "This description."
      }
    },
    "/v1/query/{name}": {
      "get": {
        "operationId": "query",
        "parameters": [
          {
            "description": "the query: member (id), lineage (cert), holdings (member), exposure, green_backed, credit_blocks (owner), provenance (program, serial), retirements (beneficiary, from?, to? — or retirement), supply, evidence (hash), evidence_by (member, after?, limit?)",
            "in": "path",
            "name": "name",
            "required": true,
            "schema": {
              "enum": [
                "member",
                "lineage",
                "holdings",
                "exposure",
                "green_backed",
                "credit_blocks",
                "provenance",
                "retirements",
                "supply",
                "evidence",
                "evidence_by"
              ],
              "type": "string"
            }
          },
          {
            "$ref": "#/components/parameters/Height"
          },
          {
            "$ref": "#/components/parameters/Prove"
          },
          {
            "description": "member: the member id.",
            "in": "query",
            "name": "id",
            "required": false,
            "schema": {
              "$ref": "#/components/schemas/Id"
            }
          },
          {
            "description": "lineage: a certificate piece id. The answer's document_attestation is the attestation record of the piece's trade_ref.doc_hash (absent when not attested).",
            "in": "query",
            "name": "cert",
            "required": false,
            "schema": {
              "$ref": "#/components/schemas/Id"
            }
          },
          {
            "description": "holdings, evidence_by: a member id.",
            "in": "query",
            "name": "member",
            "required": false,
            "schema": {
              "$ref": "#/components/schemas/Id"
            }
          },
          {
            "description": "credit_blocks: a member id.",
            "in": "query",
            "name": "owner",
            "required": false,
            "schema": {
              "$ref": "#/components/schemas/Id"
            }
          },
          {
            "description": "provenance: a program id. The answer's report_attestation is the attestation record of the verification's report_hash (absent when not attested).",
            "in": "query",
            "name": "program",
            "required": false,
            "schema": {
              "$ref": "#/components/schemas/Id"
            }
          },
          {
            "description": "provenance: a serial number.",
            "in": "query",
            "name": "serial",
            "required": false,
            "schema": {
              "$ref": "#/components/schemas/UInt64"
            }
          },
          {
            "description": "retirements: a beneficiary, as retired for.",
            "in": "query",
            "name": "beneficiary",
            "required": false,
            "schema": {
              "type": "string"
            }
          },
          {
            "description": "retirements: from time, Unix seconds.",
            "in": "query",
            "name": "from",
            "required": false,
            "schema": {
              "$ref": "#/components/schemas/Int64"
            }
          },
          {
            "description": "retirements: to time, Unix seconds.",
            "in": "query",
            "name": "to",
            "required": false,
            "schema": {
              "$ref": "#/components/schemas/Int64"
            }
          },
          {
            "description": "retirements: one retirement id (instead of beneficiary).",
            "in": "query",
            "name": "retirement",
            "required": false,
            "schema": {
              "$ref": "#/components/schemas/Id"
            }
          },
          {
            "description": "evidence: a document's SHA-256 (64 hex digits). Answers its attestation record: doc_hash, doc_kind, status (active|revoked), attester, first_attested_height, first_attested_time, attestations[] (attester, title, metadata, refs, height, time, tx_hash, status, withdrawal?); 404 when never attested. Public: the hash is the capability (docs/ACCESS.md).",
            "in": "query",
            "name": "hash",
            "required": false,
            "schema": {
              "$ref": "#/components/schemas/Sha256Hex"
            }
          },
          {
            "description": "evidence_by: start after this document hash (the previous page's next).",
            "in": "query",
            "name": "after",
            "required": false,
            "schema": {
              "$ref": "#/components/schemas/Sha256Hex"
            }
          },
          {
            "description": "evidence_by: page size, default 100. The answer is {member, attestations[] in hash order (doc_hash, doc_kind, original, record_status, attestation), next?}: next is set while more follow.",
            "in": "query",
            "name": "limit",
            "required": false,
            "schema": {
              "maximum": 1000,
              "minimum": 1,
              "type": "integer"
            }
          }
        ],
        "responses": {
          "200": {
            "content": {
              "application/json": {
                "examples": {
                  "member": {
                    "summary": "GET /v1/query/member?id=supplier1 signed by a regulator",
                    "value": {
                      "height": 1481,
                      "query": "member",
                      "result": {
                        "accreditations": [],
                        "legal_name": "First Tier Parts Co., Ltd.",
                        "member_id": "supplier1",
                        "public_keys": [
                          "0d4773ba97ce9b147fba03cc6a6ece773f3177e4d796d97ef55a7f4c5c365ae7",
                          "ae3a86e11d8eabfa2229e9f34673a3466bd5a14eceb146fe6aba285510517498"
                        ],
                        "registration_no": "91310000MA1SUPP001",
                        "roles": [
                          "supplier"
                        ],
                        "status": "active"
                      },
                      "state_root": "6e649dc815c6e36d2629205176e223ad43e075d25ec4b50453753f65ab9ce4f6"
                    }
                  },
                  "member_proved": {
                    "summary": "the same with prove=true: the proof of every state record read",
                    "value": {
                      "height": 1481,
                      "proofs": [
                        {
                          "height": 1481,
                          "key": "member/supplier1",
                          "key_hex": "6d656d6265722f737570706c69657231",
                          "proof_hex": "0000000abb8bf1c4936e5b99cda2ade9d3080764e55fd7fa2e0f7e6b20c0b18a…",
                          "state_root": "6e649dc815c6e36d2629205176e223ad43e075d25ec4b50453753f65ab9ce4f6",
                          "value_hex": "00000009737570706c696572310000001a466972737420546965722050617274…"
                        }
                      ],
                      "query": "member",
                      "result": {
                        "accreditations": [],
                        "legal_name": "First Tier Parts Co., Ltd.",
                        "member_id": "supplier1",
                        "public_keys": [
                          "0d4773ba97ce9b147fba03cc6a6ece773f3177e4d796d97ef55a7f4c5c365ae7",
                          "ae3a86e11d8eabfa2229e9f34673a3466bd5a14eceb146fe6aba285510517498"
                        ],
                        "registration_no": "91310000MA1SUPP001",
                        "roles": [
                          "supplier"
                        ],
                        "status": "active"
                      },
                      "state_root": "6e649dc815c6e36d2629205176e223ad43e075d25ec4b50453753f65ab9ce4f6"
                    }
                  },
                  "supply": {
                    "summary": "GET /v1/query/supply",
                    "value": {
                      "height": 1481,
                      "query": "supply",
                      "result": {
                        "balanced": true,
                        "batches": [
                          {
                            "active": 800,
                            "balanced": true,
                            "buffer": 100,
                            "cancelled": 0,
                            "frozen": 0,
                            "id": "batch-6f8d5974ac27ea2185db",
                            "issued": 1000,
                            "locked": 0,
                            "retired": 100
                          }
                        ],
                        "programs": [
                          {
                            "active": 800,
                            "balanced": true,
                            "buffer": 100,
                            "cancelled": 0,
                            "frozen": 0,
                            "id": "P1796455804",
                            "issued": 1000,
                            "locked": 0,
                            "retired": 100
                          }
                        ]
                      },
                      "state_root": "6e649dc815c6e36d2629205176e223ad43e075d25ec4b50453753f65ab9ce4f6"
                    }
                  }
                },
                "schema": {
                  "type": "object"
                }
              }
            },
            "description": "{query, height, state_root, result, proofs?}"
          },
          "400": {
            "$ref": "#/components/responses/JSONError"
          },
          "401": {
            "$ref": "#/components/responses/Unauthorized"
          },
          "403": {
            "$ref": "#/components/responses/Forbidden"
          },
          "404": {
            "content": {
              "application/json": {
                "examples": {
                  "unknown": {
                    "summary": "GET /v1/query/nonsense",
                    "value": {
                      "error": {
                        "code": "not_found",
                        "message": "unknown query \"nonsense\"; known queries: member, lineage, holdin…"
                      }
                    }
                  }
                },
                "schema": {
                  "$ref": "#/components/schemas/Error"
                }
              }
            },
            "description": "JSON error"
          },
          "410": {
            "$ref": "#/components/responses/StatePruned"
          },
          "429": {
            "$ref": "#/components/responses/TooManySignedRequests"
          },
          "503": {
            "$ref": "#/components/responses/NonceWindowFull"
          }
        },
        "summary": "A domain query (member, lineage, holdings, exposure, green_backed, credit_blocks, provenance, retirements, supply, evidence, evidence_by); other query parameters are the query's own."
      }
    },
    "/v1/state/{key}": {
      "get": {
        "operationId": "state",
        "parameters": [
          {
            "description": "the key as text (or use key_hex)",
            "in": "path",
            "name": "key",
            "required": true,
            "schema": {
              "type": "string"
            }
          },
          {
            "description": "the key as hex",
            "in": "query",
            "name": "key_hex",
            "required": false,
            "schema": {
              "pattern": "^([0-9a-fA-F]{2})+$",
              "type": "string"
            }
          },
          {
            "$ref": "#/components/parameters/Height"
          },
          {
            "$ref": "#/components/parameters/Prove"
          }
        ],
        "responses": {
          "200": {
            "content": {
              "application/json": {
                "examples": {
                  "proved": {
                    "summary": "GET /v1/state/member%2Fregulator?prove=true signed by a regulator",
                    "value": {
                      "height": 1481,
                      "key": "member/regulator",
                      "key_hex": "6d656d6265722f726567756c61746f72",
                      "proof_hex": "0000000a059cd9271777a5b50d578e0b78c270cb29a1b7efec9e027d6994779e…",
                      "state_root": "6e649dc815c6e36d2629205176e223ad43e075d25ec4b50453753f65ab9ce4f6",
                      "value_hex": "00000009726567756c61746f720000001b4578616d706c652046696e616e6369…"
                    }
                  }
                },
                "schema": {
                  "type": "object"
                }
              }
            },
            "description": "value and proof"
          },
          "400": {
            "content": {
              "application/json": {
                "examples": {
                  "bad_prove": {
                    "summary": "prove must be true, false, 1 or 0",
                    "value": {
                      "error": {
                        "code": "bad_request",
                        "message": "prove must be true, false, 1 or 0"
                      }
                    }
                  }
                },
                "schema": {
                  "$ref": "#/components/schemas/Error"
                }
              }
            },
            "description": "JSON error"
          },
          "401": {
            "$ref": "#/components/responses/Unauthorized"
          },
          "403": {
            "$ref": "#/components/responses/Forbidden"
          },
          "404": {
            "$ref": "#/components/responses/JSONError"
          },
          "410": {
            "$ref": "#/components/responses/StatePruned"
          },
          "429": {
            "$ref": "#/components/responses/TooManySignedRequests"
          },
          "503": {
            "$ref": "#/components/responses/NonceWindowFull"
          }
        },
        "summary": "A state value (hex) at a height, with its proof on request."
      }
    },
    "/v1/status": {
      "get": {
        "operationId": "status",
        "responses": {
          "200": {
            "content": {
              "application/json": {
                "examples": {
                  "anonymous": {
                    "summary": "GET /v1/status unsigned: the public part",
                    "value": {
                      "catching_up": false,
                      "chain_id": "trellis-example-1",
                      "consensus_round": 0,
                      "consensus_status": "running",
                      "height": 1475,
                      "latest_block_hash": "93d06874d4a7d30ce07f07b33994c28b86783700555a091d81c8d5466799239c",
                      "latest_block_time": 1796457318,
                      "mempool_size": 0,
                      "state_root": "6e649dc815c6e36d2629205176e223ad43e075d25ec4b50453753f65ab9ce4f6",
                      "validators": [
                        {
                          "p2p_address": "127.0.0.1:9100",
                          "public_key": "a4e369617c481d7392531237c2bd89072f67803c383944b2b30e95ab17ad6926",
                          "voting_power": 1
                        }
                      ]
                    }
                  },
                  "regulator": {
                    "summary": "GET /v1/status signed by a regulator: the full status",
                    "value": {
                      "catching_up": false,
                      "chain_id": "trellis-example-1",
                      "consensus_round": 0,
                      "consensus_status": "running",
                      "height": 1475,
                      "latest_block_hash": "93d06874d4a7d30ce07f07b33994c28b86783700555a091d81c8d5466799239c",
                      "latest_block_time": 1796457318,
                      "mempool_size": 0,
                      "node_key": "a4e369617c481d7392531237c2bd89072f67803c383944b2b30e95ab17ad6926",
                      "node_name": "node1",
                      "peers": [],
                      "rules": {
                        "active_version": 1,
                        "supported_versions": [
                          1,
                          2
                        ],
                        "upgrades": []
                      },
                      "state_root": "6e649dc815c6e36d2629205176e223ad43e075d25ec4b50453753f65ab9ce4f6",
                      "validators": [
                        {
                          "p2p_address": "127.0.0.1:9100",
                          "public_key": "a4e369617c481d7392531237c2bd89072f67803c383944b2b30e95ab17ad6926",
                          "voting_power": 1
                        }
                      ]
                    }
                  }
                },
                "schema": {
                  "type": "object"
                }
              }
            },
            "description": "node status"
          },
          "401": {
            "$ref": "#/components/responses/Unauthorized"
          },
          "403": {
            "$ref": "#/components/responses/Forbidden"
          },
          "429": {
            "$ref": "#/components/responses/TooManySignedRequests"
          },
          "503": {
            "$ref": "#/components/responses/NonceWindowFull"
          }
        },
        "summary": "Chain id, height, state root, validators, consensus status; signed by a regulator, an auditor or the operator also the node's name, key and peers and the rules versions (active, supported, scheduled upgrades)."
      }
    },
    "/v1/tx": {
      "post": {
        "operationId": "submitTransaction",
        "parameters": [
          {
            "description": "commit: answer when committed (or after the commit wait).",
            "in": "query",
            "name": "wait",
            "required": false,
            "schema": {
              "enum": [
                "commit"
              ],
              "type": "string"
            }
          }
        ],
        "requestBody": {
          "content": {
            "application/json": {
              "examples": {
                "transaction": {
                  "summary": "the hex of a transaction's canonical bytes (a real one: the already committed transaction above)",
                  "value": {
                    "tx": "000000117472656c6c69732d6578616d706c652d31000000126d656d6265722e726f746174655f6b6579730000002800000001ae3a86e11d8eabfa2229e9f34673a3466bd5a14eceb146fe6aba2855105174980000000000000009737570706c6965723100000000000000050000000000000404000000000000000100000009737570706c696572310d4773ba97ce9b147fba03cc6a6ece773f3177e4d796d97ef55a7f4c5c365ae72a26083e45bbbb0b70210cb822f5281371e5f513ec7a1266b305c7e1e5a2aac0ba4e61512bc66e9131227827d362fc992e6207a1fc4ee68f1f47a3807179b401"
                  }
                }
              },
              "schema": {
                "properties": {
                  "tx": {
                    "description": "hex of the canonical transaction bytes",
                    "pattern": "^([0-9a-fA-F]{2})+$",
                    "type": "string"
                  }
                },
                "required": [
                  "tx"
                ],
                "type": "object"
              }
            },
            "application/octet-stream": {
              "schema": {
                "format": "binary",
                "type": "string"
              }
            }
          },
          "required": true
        },
        "responses": {
          "200": {
            "content": {
              "application/json": {
                "schema": {
                  "type": "object"
                }
              }
            },
            "description": "committed or rejected (wait=commit)"
          },
          "202": {
            "content": {
              "application/json": {
                "examples": {
                  "accepted": {
                    "summary": "POST /v1/tx with a new signed transaction (as `trellis tx send` prints it)",
                    "value": {
                      "hash": "d444b7637e8a9c5b87561b66c92a194b6a70990cac12f9db111b5371484af671",
                      "status": "pending"
                    }
                  }
                },
                "schema": {
                  "type": "object"
                }
              }
            },
            "description": "{hash, status: pending}"
          },
          "400": {
            "content": {
              "application/json": {
                "examples": {
                  "already_committed": {
                    "summary": "POST /v1/tx with a transaction already committed: its nonce is used",
                    "value": {
                      "error": {
                        "code": "expired",
                        "message": "transaction expired at height 1028; the chain is at 1481"
                      }
                    }
                  },
                  "malformed": {
                    "summary": "POST /v1/tx with {\"tx\": \"zz\"}",
                    "value": {
                      "error": {
                        "code": "malformed_body",
                        "message": "field \"tx\": hex string has a non-hex character at position 0"
                      }
                    }
                  }
                },
                "schema": {
                  "$ref": "#/components/schemas/Error"
                }
              }
            },
            "description": "JSON error"
          },
          "409": {
            "$ref": "#/components/responses/JSONError"
          },
          "413": {
            "$ref": "#/components/responses/JSONError"
          },
          "429": {
            "$ref": "#/components/responses/Overloaded"
          },
          "503": {
            "$ref": "#/components/responses/JSONError"
          }
        },
        "security": [
          {}
        ],
        "summary": "Submit one transaction: {\"tx\": \"<hex>\"} or its canonical bytes."
      }
    },
    "/v1/tx/{hash}": {
      "get": {
        "operationId": "transaction",
        "parameters": [
          {
            "description": "64 hex digits",
            "in": "path",
            "name": "hash",
            "required": true,
            "schema": {
              "$ref": "#/components/schemas/Sha256Hex"
            }
          }
        ],
        "responses": {
          "200": {
            "content": {
              "application/json": {
                "examples": {
                  "committed": {
                    "summary": "GET /v1/tx/HASH signed by a regulator",
                    "value": {
                      "hash": "cc5e2f65419508b3072a0424b2465812fa2e24204d0049b385d12e2c2008022d",
                      "height": 29,
                      "index": 0,
                      "receipt": {
                        "created": [],
                        "index": 0,
                        "nonce_consumed": true,
                        "status": "ok",
                        "tx_hash": "cc5e2f65419508b3072a0424b2465812fa2e24204d0049b385d12e2c2008022d"
                      },
                      "receipt_hex": "cc5e2f65419508b3072a0424b2465812fa2e24204d0049b385d12e2c2008022d00000000010000000000",
                      "receipt_path": [],
                      "status": "committed",
                      "transaction": {
                        "canonical_hex": "000000117472656c6c69732d6578616d706c652d31000000126d656d6265722e…",
                        "chain_id": "trellis-example-1",
                        "cosigners": [],
                        "expires_at_height": 1028,
                        "hash": "cc5e2f65419508b3072a0424b2465812fa2e24204d0049b385d12e2c2008022d",
                        "kind": "member.rotate_keys",
                        "nonce": 5,
                        "payload": {
                          "add_keys": [
                            "ae3a86e11d8eabfa2229e9f34673a3466bd5a14eceb146fe6aba285510517498"
                          ],
                          "remove_keys": []
                        },
                        "payload_hex": "00000001ae3a86e11d8eabfa2229e9f34673a3466bd5a14eceb146fe6aba28551051749800000000",
                        "signatures": [
                          {
                            "member_id": "supplier1",
                            "public_key": "0d4773ba97ce9b147fba03cc6a6ece773f3177e4d796d97ef55a7f4c5c365ae7",
                            "signature": "2a26083e45bbbb0b70210cb822f5281371e5f513ec7a1266b305c7e1e5a2aac0ba4e61512bc66e9131227827d362fc992e6207a1fc4ee68f1f47a3807179b401"
                          }
                        ],
                        "signer": "supplier1"
                      }
                    }
                  }
                },
                "schema": {
                  "type": "object"
                }
              }
            },
            "description": "{hash, status, height, index, receipt, transaction}; committed: also receipt_hex (the canonical Receipt) and receipt_path (its RFC 9162 path to the header's receipts_root, docs/EXPORT-FORMAT.md §4)"
          },
          "400": {
            "content": {
              "application/json": {
                "examples": {
                  "malformed": {
                    "summary": "GET /v1/tx/xyz",
                    "value": {
                      "error": {
                        "code": "bad_request",
                        "message": "transaction hash: hex string has odd length 3"
                      }
                    }
                  }
                },
                "schema": {
                  "$ref": "#/components/schemas/Error"
                }
              }
            },
            "description": "JSON error"
          },
          "401": {
            "$ref": "#/components/responses/Unauthorized"
          },
          "403": {
            "$ref": "#/components/responses/Forbidden"
          },
          "404": {
            "$ref": "#/components/responses/JSONError"
          },
          "429": {
            "$ref": "#/components/responses/TooManySignedRequests"
          },
          "503": {
            "$ref": "#/components/responses/NonceWindowFull"
          }
        },
        "summary": "A transaction's status, height, receipt and body."
      }
    },
    "/v1/txs": {
      "post": {
        "operationId": "submitTransactionBatch",
        "requestBody": {
          "content": {
            "application/octet-stream": {
              "schema": {
                "format": "binary",
                "type": "string"
              }
            }
          },
          "required": true
        },
        "responses": {
          "200": {
            "content": {
              "application/json": {
                "schema": {
                  "type": "object"
                }
              }
            },
            "description": "{accepted, refused, results}: per transaction {hash, status} or {error: {code, message, retry_after_s?}} (retry_after_s on overloaded/signer_backlog)"
          },
          "400": {
            "$ref": "#/components/responses/JSONError"
          },
          "413": {
            "$ref": "#/components/responses/JSONError"
          },
          "415": {
            "$ref": "#/components/responses/JSONError"
          },
          "429": {
            "$ref": "#/components/responses/Overloaded"
          },
          "503": {
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/Error"
                }
              }
            },
            "description": "mempool full"
          }
        },
        "security": [
          {}
        ],
        "summary": "Submit up to 1,000 transactions as one binary batch."
      }
    }
  },
  "security": [
    {},
    {
      "TrellisMember": [],
      "TrellisNonce": [],
      "TrellisSignature": [],
      "TrellisTimestamp": []
    }
  ]
}

"""#
}
