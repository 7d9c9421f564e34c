// OpenAPIDocument.swift — the API's OpenAPI 3.1 description, served at GET /v1/openapi.json. The same document is
// docs/openapi.json in the repository; OpenAPITests checks that the two are equal and that the routes the router
// serves and the paths described here match both ways.
enum OpenAPIDocument {
    static let json = #"""
{
  "components": {
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
              "pattern": "^([0-9]+|latest)$",
              "type": "string"
            }
          }
        ],
        "responses": {
          "200": {
            "content": {
              "application/json": {
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
          }
        ],
        "responses": {
          "200": {
            "content": {
              "application/json": {
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
          }
        ],
        "responses": {
          "200": {
            "content": {
              "application/json": {
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
        "summary": "Chain id, height, state root, validators, peers, consensus status."
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
              "pattern": "^[0-9a-fA-F]{64}$",
              "type": "string"
            }
          }
        ],
        "responses": {
          "200": {
            "content": {
              "application/json": {
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
