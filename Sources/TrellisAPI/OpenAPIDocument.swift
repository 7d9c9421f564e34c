// OpenAPIDocument.swift — the API's OpenAPI 3.1 description, served at GET /v1/openapi.json. The same document is
// docs/openapi.json in the repository; OpenAPITests checks that the two are equal and that the routes the router
// serves and the paths described here match both ways.
enum OpenAPIDocument {
    static let json = #"""
{
  "components": {
    "parameters": {
      "TrellisMember": {
        "description": "Signed requests: the member id, or @operator for the node's own key (docs/ACCESS.md).",
        "in": "header",
        "name": "Trellis-Member",
        "required": false,
        "schema": {
          "pattern": "^(@operator|[A-Za-z0-9._:-]{1,128})$",
          "type": "string"
        }
      },
      "TrellisNonce": {
        "description": "Signed requests: fresh for every request.",
        "in": "header",
        "name": "Trellis-Nonce",
        "required": false,
        "schema": {
          "pattern": "^[A-Za-z0-9_-]{16,64}$",
          "type": "string"
        }
      },
      "TrellisSignature": {
        "description": "Signed requests: 128 hex digits, Ed25519 over the sign bytes of docs/ACCESS.md.",
        "in": "header",
        "name": "Trellis-Signature",
        "required": false,
        "schema": {
          "pattern": "^[0-9a-f]{128}$",
          "type": "string"
        }
      },
      "TrellisTimestamp": {
        "description": "Signed requests: Unix seconds, within the node's request_skew_s of its clock.",
        "in": "header",
        "name": "Trellis-Timestamp",
        "required": false,
        "schema": {
          "pattern": "^-?[0-9]{1,19}$",
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
        "description": "forbidden (the signer lacks the route's scope; the message names the scope, never the object) or member_inactive"
      },
      "NonceWindowFull": {
        "content": {
          "application/json": {
            "schema": {
              "$ref": "#/components/schemas/Error"
            }
          }
        },
        "description": "nonce_window_full: max_request_nonces signed requests are live in the replay window; retry shortly"
      },
      "Unauthorized": {
        "content": {
          "application/json": {
            "schema": {
              "$ref": "#/components/schemas/Error"
            }
          }
        },
        "description": "authentication_required (the route needs a scope and the request is not signed), invalid_credentials, stale_credentials, invalid_signature or replayed_nonce (docs/ACCESS.md)"
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
      }
    },
    "securitySchemes": {
      "trellisRequestSignature": {
        "description": "An Ed25519 signature of the request by a member key (or the node's own key as @operator), sent with Trellis-Member, Trellis-Timestamp and Trellis-Nonce; the signed bytes and a worked example are in docs/ACCESS.md. Optional on every route that reads: without it a route answers its public part or 401.",
        "in": "header",
        "name": "Trellis-Signature",
        "type": "apiKey"
      }
    }
  },
  "info": {
    "description": "The HTTP/JSON API of a Trellis node (docs/ARCHITECTURE.md, \"HTTP API\"). Every error is {\"error\": {\"code\", \"message\"}} with the HTTP status given; unknown routes answer 404 not_found.",
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
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/Error"
                }
              }
            },
            "description": "JSON error"
          }
        },
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
        "summary": "Liveness: ok, or 503 once consensus halted for good."
      }
    },
    "/metrics": {
      "get": {
        "operationId": "metrics",
        "parameters": [
          {
            "$ref": "#/components/parameters/TrellisMember"
          },
          {
            "$ref": "#/components/parameters/TrellisTimestamp"
          },
          {
            "$ref": "#/components/parameters/TrellisNonce"
          },
          {
            "$ref": "#/components/parameters/TrellisSignature"
          }
        ],
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
          "503": {
            "$ref": "#/components/responses/NonceWindowFull"
          }
        },
        "security": [
          {},
          {
            "trellisRequestSignature": []
          }
        ],
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
          },
          {
            "$ref": "#/components/parameters/TrellisMember"
          },
          {
            "$ref": "#/components/parameters/TrellisTimestamp"
          },
          {
            "$ref": "#/components/parameters/TrellisNonce"
          },
          {
            "$ref": "#/components/parameters/TrellisSignature"
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
                    "summary": "GET /v1/blocks/23 signed by a regulator: transactions decoded",
                    "value": {
                      "canonical_hex": "000000117472656c6c69732d6578616d706c652d310000000000000017000000…",
                      "certificate": {
                        "block_id": "6b55abd535373d009523d39f212bc97e8d0d4276d4ae9454b012980634f43164",
                        "canonical_hex": "0000000000000017000000006b55abd535373d009523d39f212bc97e8d0d4276…",
                        "height": 23,
                        "round": 0,
                        "signatures": [
                          {
                            "signature": "6d6325e0bd80009e8128cf406f3c481de826917655e71ee48547b5ca32b1e5cfbc5867396e7ead4a48191fdc7b2dbf26ccc57b3ac5ea8918866d7251d3101407",
                            "validator": "a4e369617c481d7392531237c2bd89072f67803c383944b2b30e95ab17ad6926"
                          }
                        ]
                      },
                      "evidence_count": 0,
                      "header": {
                        "app_version": 1,
                        "chain_id": "trellis-example-1",
                        "evidence_hash": "df3f619804a92fdb4057192dc43dd748ea778adc52bc498ce80524c014b81119",
                        "hash": "6b55abd535373d009523d39f212bc97e8d0d4276d4ae9454b012980634f43164",
                        "height": 23,
                        "last_commit_hash": "f4eae9ca8e04233e32b4a680d29ebd091d4560362ff632565135f17176c88683",
                        "next_validator_set_hash": "6e92c40e08f8b40fb5fcc41ad60980c34cc07a5b2f5514e7b226a7b4b297ef00",
                        "previous_block_hash": "5427033eccd4840f42c1f03281a1da8a3a13429c7f9274a85cbea5ce8123207e",
                        "proposer": "a4e369617c481d7392531237c2bd89072f67803c383944b2b30e95ab17ad6926",
                        "receipts_root": "01a568f64746b2a75062bd48ee16e6fcbd68d1a2fe7d6d7b611e95fed6996254",
                        "round": 0,
                        "state_root": "17aabe2bd2503e73628d79e1b6dff544614a363f6a79d80ea8c95fccd6e56c2d",
                        "time": 1796455827,
                        "tx_count": 1,
                        "tx_root": "ddab07351c9d3b4bd8df71a68a5ca2d3907df1e1e8de3f75bffeada59be874bf",
                        "validator_set_hash": "6e92c40e08f8b40fb5fcc41ad60980c34cc07a5b2f5514e7b226a7b4b297ef00"
                      },
                      "header_hex": "000000117472656c6c69732d6578616d706c652d310000000000000017000000…",
                      "last_commit": {
                        "block_id": "5427033eccd4840f42c1f03281a1da8a3a13429c7f9274a85cbea5ce8123207e",
                        "canonical_hex": "0000000000000016000000005427033eccd4840f42c1f03281a1da8a3a13429c…",
                        "height": 22,
                        "round": 0,
                        "signatures": [
                          {
                            "signature": "3e9f080f625a85cd5a42f1c280c037a4b28ef721ed994924f0f5f74544e8f0c696dcbbfd2e901fe440b5c05f2a837283683655b5d5137ed5cda2158160e3f80b",
                            "validator": "a4e369617c481d7392531237c2bd89072f67803c383944b2b30e95ab17ad6926"
                          }
                        ]
                      },
                      "transactions": [
                        {
                          "canonical_hex": "000000117472656c6c69732d6578616d706c652d310000001263657274696669…",
                          "chain_id": "trellis-example-1",
                          "cosigners": [],
                          "expires_at_height": 1022,
                          "hash": "13292a01359facc3a7114adf3a1073ebfd190317e3666b5b69f4ac8109de5747",
                          "kind": "certificate.settle",
                          "nonce": 1,
                          "payload": {
                            "root_id": "cert-edc51b604edd77c89efc"
                          },
                          "payload_hex": "00000019636572742d6564633531623630346564643737633839656663",
                          "signatures": [
                            {
                              "member_id": "clearing",
                              "public_key": "4bd91d3483dd257c74bacc3b42f2ed8fdd6351b19cbb61f5463ad265ddc92236",
                              "signature": "b0813b1cc70db6a66ed9b467b1304a93485e82449ffd605ecb5dc8337acfaadd5aa4dea23e05c0e7922ef57fce00febf30d43fac13faf1778e056d9ccd399f08"
                            }
                          ],
                          "signer": "clearing"
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
            "content": {
              "application/json": {
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
            "content": {
              "application/json": {
                "examples": {
                  "missing": {
                    "summary": "GET /v1/blocks/1000028",
                    "value": {
                      "error": {
                        "code": "not_found",
                        "message": "no block at height 1000028"
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
          "503": {
            "$ref": "#/components/responses/NonceWindowFull"
          }
        },
        "security": [
          {},
          {
            "trellisRequestSignature": []
          }
        ],
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
          },
          {
            "$ref": "#/components/parameters/TrellisMember"
          },
          {
            "$ref": "#/components/parameters/TrellisTimestamp"
          },
          {
            "$ref": "#/components/parameters/TrellisNonce"
          },
          {
            "$ref": "#/components/parameters/TrellisSignature"
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
            "content": {
              "application/json": {
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
          "503": {
            "$ref": "#/components/responses/NonceWindowFull"
          }
        },
        "security": [
          {},
          {
            "trellisRequestSignature": []
          }
        ],
        "summary": "Server-sent events: one block event per committed block."
      }
    },
    "/v1/genesis": {
      "get": {
        "operationId": "genesis",
        "parameters": [
          {
            "$ref": "#/components/parameters/TrellisMember"
          },
          {
            "$ref": "#/components/parameters/TrellisTimestamp"
          },
          {
            "$ref": "#/components/parameters/TrellisNonce"
          },
          {
            "$ref": "#/components/parameters/TrellisSignature"
          }
        ],
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
          "503": {
            "$ref": "#/components/responses/NonceWindowFull"
          }
        },
        "security": [
          {},
          {
            "trellisRequestSignature": []
          }
        ],
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
        "summary": "This description."
      }
    },
    "/v1/query/{name}": {
      "get": {
        "operationId": "query",
        "parameters": [
          {
            "description": "the query",
            "in": "path",
            "name": "name",
            "required": true,
            "schema": {
              "type": "string"
            }
          },
          {
            "description": "Answer as of this committed height (default: the latest).",
            "in": "query",
            "name": "height",
            "required": false,
            "schema": {
              "maximum": 18446744073709551615,
              "minimum": 0,
              "type": "integer"
            }
          },
          {
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
          },
          {
            "$ref": "#/components/parameters/TrellisMember"
          },
          {
            "$ref": "#/components/parameters/TrellisTimestamp"
          },
          {
            "$ref": "#/components/parameters/TrellisNonce"
          },
          {
            "$ref": "#/components/parameters/TrellisSignature"
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
                      "height": 28,
                      "query": "member",
                      "result": {
                        "accreditations": [],
                        "legal_name": "First Tier Parts Co., Ltd.",
                        "member_id": "supplier1",
                        "public_keys": [
                          "0d4773ba97ce9b147fba03cc6a6ece773f3177e4d796d97ef55a7f4c5c365ae7"
                        ],
                        "registration_no": "91310000MA1SUPP001",
                        "roles": [
                          "supplier"
                        ],
                        "status": "active"
                      },
                      "state_root": "17aabe2bd2503e73628d79e1b6dff544614a363f6a79d80ea8c95fccd6e56c2d"
                    }
                  },
                  "member_proved": {
                    "summary": "the same with prove=true: the proof of every state record read",
                    "value": {
                      "height": 28,
                      "proofs": [
                        {
                          "height": 28,
                          "key": "member/supplier1",
                          "key_hex": "6d656d6265722f737570706c69657231",
                          "proof_hex": "0000000ae1ee32cbd5e19617c685ef10349fe29bf40a8eef64b175be199b1ee1…",
                          "state_root": "17aabe2bd2503e73628d79e1b6dff544614a363f6a79d80ea8c95fccd6e56c2d",
                          "value_hex": "00000009737570706c696572310000001a466972737420546965722050617274…"
                        }
                      ],
                      "query": "member",
                      "result": {
                        "accreditations": [],
                        "legal_name": "First Tier Parts Co., Ltd.",
                        "member_id": "supplier1",
                        "public_keys": [
                          "0d4773ba97ce9b147fba03cc6a6ece773f3177e4d796d97ef55a7f4c5c365ae7"
                        ],
                        "registration_no": "91310000MA1SUPP001",
                        "roles": [
                          "supplier"
                        ],
                        "status": "active"
                      },
                      "state_root": "17aabe2bd2503e73628d79e1b6dff544614a363f6a79d80ea8c95fccd6e56c2d"
                    }
                  },
                  "supply": {
                    "summary": "GET /v1/query/supply",
                    "value": {
                      "height": 28,
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
                      "state_root": "17aabe2bd2503e73628d79e1b6dff544614a363f6a79d80ea8c95fccd6e56c2d"
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
            "content": {
              "application/json": {
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
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/Error"
                }
              }
            },
            "description": "state_pruned: the height is outside the node's proof window (the message names the window)"
          },
          "503": {
            "$ref": "#/components/responses/NonceWindowFull"
          }
        },
        "security": [
          {},
          {
            "trellisRequestSignature": []
          }
        ],
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
            "description": "Answer as of this committed height (default: the latest).",
            "in": "query",
            "name": "height",
            "required": false,
            "schema": {
              "maximum": 18446744073709551615,
              "minimum": 0,
              "type": "integer"
            }
          },
          {
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
          },
          {
            "$ref": "#/components/parameters/TrellisMember"
          },
          {
            "$ref": "#/components/parameters/TrellisTimestamp"
          },
          {
            "$ref": "#/components/parameters/TrellisNonce"
          },
          {
            "$ref": "#/components/parameters/TrellisSignature"
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
                      "height": 28,
                      "key": "member/regulator",
                      "key_hex": "6d656d6265722f726567756c61746f72",
                      "proof_hex": "0000000af2c6cd7858f2b0c395101ed684649eebf55fa9224e32491781d6be77…",
                      "state_root": "17aabe2bd2503e73628d79e1b6dff544614a363f6a79d80ea8c95fccd6e56c2d",
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
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/Error"
                }
              }
            },
            "description": "JSON error"
          },
          "410": {
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/Error"
                }
              }
            },
            "description": "state_pruned: the height is outside the node's proof window (the message names the window)"
          },
          "503": {
            "$ref": "#/components/responses/NonceWindowFull"
          }
        },
        "security": [
          {},
          {
            "trellisRequestSignature": []
          }
        ],
        "summary": "A state value (hex) at a height, with its proof on request."
      }
    },
    "/v1/status": {
      "get": {
        "operationId": "status",
        "parameters": [
          {
            "$ref": "#/components/parameters/TrellisMember"
          },
          {
            "$ref": "#/components/parameters/TrellisTimestamp"
          },
          {
            "$ref": "#/components/parameters/TrellisNonce"
          },
          {
            "$ref": "#/components/parameters/TrellisSignature"
          }
        ],
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
                      "height": 28,
                      "latest_block_hash": "0a2040a1bd92a6c91e8cb523b0cac429f7594e75d66ae42531a68d88c2e4ec70",
                      "latest_block_time": 1796455832,
                      "mempool_size": 0,
                      "state_root": "17aabe2bd2503e73628d79e1b6dff544614a363f6a79d80ea8c95fccd6e56c2d",
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
                      "height": 28,
                      "latest_block_hash": "0a2040a1bd92a6c91e8cb523b0cac429f7594e75d66ae42531a68d88c2e4ec70",
                      "latest_block_time": 1796455832,
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
                      "state_root": "17aabe2bd2503e73628d79e1b6dff544614a363f6a79d80ea8c95fccd6e56c2d",
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
          "503": {
            "$ref": "#/components/responses/NonceWindowFull"
          }
        },
        "security": [
          {},
          {
            "trellisRequestSignature": []
          }
        ],
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
                    "tx": "000000117472656c6c69732d6578616d706c652d310000001263657274696669636174652e736574746c650000001d00000019636572742d656463353162363034656464373763383965666300000008636c656172696e67000000000000000100000000000003fe000000000000000100000008636c656172696e674bd91d3483dd257c74bacc3b42f2ed8fdd6351b19cbb61f5463ad265ddc92236b0813b1cc70db6a66ed9b467b1304a93485e82449ffd605ecb5dc8337acfaadd5aa4dea23e05c0e7922ef57fce00febf30d43fac13faf1778e056d9ccd399f08"
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
                      "hash": "cc5e2f65419508b3072a0424b2465812fa2e24204d0049b385d12e2c2008022d",
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
                        "code": "stale_nonce",
                        "message": "nonce 1 is already used; the next nonce is 2"
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
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/Error"
                }
              }
            },
            "description": "JSON error"
          },
          "413": {
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/Error"
                }
              }
            },
            "description": "JSON error"
          },
          "429": {
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
          "503": {
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/Error"
                }
              }
            },
            "description": "JSON error"
          }
        },
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
              "pattern": "^[0-9a-fA-F]{64}$",
              "type": "string"
            }
          },
          {
            "$ref": "#/components/parameters/TrellisMember"
          },
          {
            "$ref": "#/components/parameters/TrellisTimestamp"
          },
          {
            "$ref": "#/components/parameters/TrellisNonce"
          },
          {
            "$ref": "#/components/parameters/TrellisSignature"
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
                      "hash": "13292a01359facc3a7114adf3a1073ebfd190317e3666b5b69f4ac8109de5747",
                      "height": 23,
                      "index": 0,
                      "receipt": {
                        "created": [
                          "cert-0d2e88685c92f7efcd9c",
                          "cert-27c5f67dd57ccde0c0e7",
                          "cert-b086cdff4fe25b223302"
                        ],
                        "index": 0,
                        "nonce_consumed": true,
                        "status": "ok",
                        "tx_hash": "13292a01359facc3a7114adf3a1073ebfd190317e3666b5b69f4ac8109de5747"
                      },
                      "status": "committed",
                      "transaction": {
                        "canonical_hex": "000000117472656c6c69732d6578616d706c652d310000001263657274696669…",
                        "chain_id": "trellis-example-1",
                        "cosigners": [],
                        "expires_at_height": 1022,
                        "hash": "13292a01359facc3a7114adf3a1073ebfd190317e3666b5b69f4ac8109de5747",
                        "kind": "certificate.settle",
                        "nonce": 1,
                        "payload": {
                          "root_id": "cert-edc51b604edd77c89efc"
                        },
                        "payload_hex": "00000019636572742d6564633531623630346564643737633839656663",
                        "signatures": [
                          {
                            "member_id": "clearing",
                            "public_key": "4bd91d3483dd257c74bacc3b42f2ed8fdd6351b19cbb61f5463ad265ddc92236",
                            "signature": "b0813b1cc70db6a66ed9b467b1304a93485e82449ffd605ecb5dc8337acfaadd5aa4dea23e05c0e7922ef57fce00febf30d43fac13faf1778e056d9ccd399f08"
                          }
                        ],
                        "signer": "clearing"
                      }
                    }
                  }
                },
                "schema": {
                  "type": "object"
                }
              }
            },
            "description": "{hash, status, height, index, receipt, transaction}"
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
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/Error"
                }
              }
            },
            "description": "JSON error"
          },
          "503": {
            "$ref": "#/components/responses/NonceWindowFull"
          }
        },
        "security": [
          {},
          {
            "trellisRequestSignature": []
          }
        ],
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
            "description": "{accepted, refused, results}"
          },
          "400": {
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/Error"
                }
              }
            },
            "description": "JSON error"
          },
          "413": {
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/Error"
                }
              }
            },
            "description": "JSON error"
          },
          "415": {
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/Error"
                }
              }
            },
            "description": "JSON error"
          },
          "429": {
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
        "summary": "Submit up to 1,000 transactions as one binary batch."
      }
    }
  }
}

"""#
}
