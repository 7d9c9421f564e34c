#!/usr/bin/env python3
"""Independent verifier of a Trellis chain export, format 2, written from docs/EXPORT-FORMAT.md alone.

It needs only SHA-256, Ed25519 (the `cryptography` package, plus the libsodium rules of §3.1 done here) and the
document itself: the payload layouts are read from the document's §9 block, so a wrong layout in the document
fails this verifier. It re-executes nothing. It checks what §6.1 lists: every line's canonical JSON, the header
line and the canonical genesis (§2.1), every block decoded from block_hex and compared with its decoded views
(payload_json decoded from payload_hex by the §9 layouts), hash links, tx_count, tx_root, receipts against
receipts_root, every certificate and last-commit signature, every transaction signature (one that does not verify,
or a missing signer, requires the receipt to be the envelope rejection of §6.3 step 4), quorum against the validator
set in force (followed through validator_set_change and the headers' set hashes), evidence.

Usage:
  verify_export.py [--doc DOC] [--genesis-hash HEX] EXPORT.jsonl    one file: "ok: …" (exit 0) or the first problem
                                                                     (exit 1 invalid, 2 malformed)
  verify_export.py [--doc DOC] --batch DIR                          every *.jsonl in DIR: "NAME: ok|exit N: message"
  verify_export.py [--doc DOC] --payloads FILE                      JSON lines {kind, payload_hex, payload_json}:
                                                                     each decoded by §9 and compared
  verify_export.py [--doc DOC] --ed25519 FILE                       lines "NAME KEY SIGNATURE MESSAGE" (hex): §3.1's verdict
  verify_export.py [--doc DOC] --bounds FILE                        JSON lines {kind, payload_hex} (samples): a payload at
                                                                     and past every §9 bound of each, as JSON lines
  verify_export.py [--doc DOC] --canonical FILE                     each line must be the §6.1 encoding of itself
  verify_export.py [--doc DOC] --examples                           recomputes the §8 worked examples (prints them)
Exit 77 when the `cryptography` package is missing.
"""
import hashlib, json, os, re, struct, sys, unicodedata

try:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey, Ed25519PrivateKey
    from cryptography.hazmat.primitives import serialization
    from cryptography.exceptions import InvalidSignature
except ImportError:
    print("SKIP: python package 'cryptography' is not installed")
    sys.exit(77)

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_DOC = os.path.join(HERE, "..", "..", "..", "docs", "EXPORT-FORMAT.md")


class Malformed(Exception):
    """Exit 2: the input is not a well-formed export (the message names the line)."""


class Invalid(Exception):
    """Exit 1: well formed, but the chain does not verify (the message names the height)."""


# ---------------------------------------------------------------- §3.1 Ed25519 as libsodium accepts it
P = 2 ** 255 - 19
L = 2 ** 252 + 27742317777372353535851937790883648493
SMALL_ORDER_Y = {0, 1, P - 1, P, P + 1,
                 2707385501144840649318225287225658788936804267575313519463743609750303402022,
                 55188659117513257062467267217118295137698188065244968500265048394206261417927}


def low255(b):
    return int.from_bytes(b, "little") & ((1 << 255) - 1)


def ed25519_valid(public_key, signature, message):
    if len(public_key) != 32 or len(signature) != 64:
        return False
    if int.from_bytes(signature[32:], "little") >= L:      # S must be canonical (< L)
        return False
    if low255(signature[:32]) in SMALL_ORDER_Y:            # R of small order
        return False
    if low255(public_key) >= P or low255(public_key) in SMALL_ORDER_Y:  # A non-canonical or of small order
        return False
    try:
        Ed25519PublicKey.from_public_bytes(public_key).verify(signature, message)
        return True
    except (InvalidSignature, ValueError):
        return False


# ---------------------------------------------------------------- §1 canonical encoding
def u8(n): return struct.pack(">B", n)
def u32(n): return struct.pack(">I", n)
def u64(n): return struct.pack(">Q", n)
def i64(n): return struct.pack(">q", n)
def text(s): b = s.encode("utf-8"); return u32(len(b)) + b
def blob(b): return u32(len(b)) + b
def sha(b): return hashlib.sha256(b).digest()


class Reader:
    def __init__(self, data, what):
        self.b, self.i, self.what = data, 0, what

    def take(self, n):
        if self.i + n > len(self.b):
            raise ValueError("%s: truncated" % self.what)
        out = self.b[self.i:self.i + n]
        self.i += n
        return out

    def u8(self): return self.take(1)[0]
    def u32(self): return struct.unpack(">I", self.take(4))[0]
    def u64(self): return struct.unpack(">Q", self.take(8))[0]
    def i64(self): return struct.unpack(">q", self.take(8))[0]
    def raw(self, n): return self.take(n)

    def bool(self):
        v = self.u8()
        if v > 1: raise ValueError("%s: boolean byte %d" % (self.what, v))
        return v == 1

    def marker(self):
        return self.bool()

    def bytes(self, bound=None):
        n = self.u32()
        if bound is not None and n > bound:
            raise ValueError("%s: %d bytes, over the bound %d" % (self.what, n, bound))
        return self.take(n)

    def string(self, bound=None):
        try:
            return self.bytes(bound).decode("utf-8", errors="strict")
        except UnicodeDecodeError:
            raise ValueError("%s: invalid UTF-8" % self.what)

    def end(self):
        if self.i != len(self.b):
            raise ValueError("%s: %d trailing bytes" % (self.what, len(self.b) - self.i))

    def elements(self, read_one, is_set, bound=None):
        n = self.u32()
        if bound is not None and n > bound:
            raise ValueError("%s: %d entries, over the bound %d" % (self.what, n, bound))
        if n > len(self.b) - self.i:
            raise ValueError("%s: count %d is larger than the bytes left" % (self.what, n))
        out, previous = [], None
        for _ in range(n):
            start = self.i
            value = read_one()
            raw = self.b[start:self.i]
            if is_set and previous is not None and not previous < raw:
                raise ValueError("%s: set elements unsorted or repeated" % self.what)
            previous = raw
            out.append(value)
        return out


# ---------------------------------------------------------------- §9 payload layouts, read from the document
class Schema:
    """The type table of §9: enums, structs, unions and kinds, parsed from the document's `layouts` block."""

    def __init__(self, doc_text):
        block = re.search(r"```layouts\n(.*?)```", doc_text, re.S)
        if not block:
            raise SystemExit("the document has no ```layouts block")
        self.enums, self.structs, self.unions, self.kinds = {}, {}, {}, {}
        union = None
        for line in block.group(1).split("\n"):
            if not line.strip() or line.strip().startswith("#"):
                continue
            if line.startswith("  ") and union is not None:
                m = re.match(r"\s+(\d+) ([a-z_.]+):(.*)$", line)
                self.unions[union].append((int(m.group(1)), m.group(2), self.fields(m.group(3))))
                continue
            union = None
            head, _, rest = line.partition(":")
            word, name = head.split(" ", 1)
            if word == "enum":
                self.enums[name] = [v.strip() for v in rest.split(",")]
            elif word == "struct":
                self.structs[name] = self.fields(rest)
            elif word == "union":
                self.unions[name] = []
                union = name
            elif word == "kind":
                self.kinds[name] = self.fields(rest)
            else:
                raise SystemExit("layouts: cannot read line %r" % line)

    @staticmethod
    def fields(text_):
        parts, depth, current = [], 0, ""
        for c in text_:  # split on commas outside <…>
            depth += {"<": 1, ">": -1}.get(c, 0)
            if c == "," and depth == 0:
                parts.append(current); current = ""
            else:
                current += c
        parts.append(current)
        out = []
        for part in [p.strip() for p in parts if p.strip()]:
            name, _, type_ = part.partition(" ")
            hidden = bound = None
            if " max=" in type_:
                type_, _, value = type_.partition(" max=")
                bound = int(value)
            if " hidden=" in type_:
                type_, _, value = type_.partition(" hidden=")
                hidden = int(value)
            out.append((name, type_.strip(), hidden, bound))
        return out

    # A field without `max` is bounded only by the payload (§9): its strings by 65,536 bytes, its lists by 4,096.
    STRING_BOUND, COUNT_BOUND = 65536, 4096

    def read(self, r, t, bound=None):
        """Decodes one value of type `t` from `r` (a string of at most `bound` bytes, a list of at most `bound`
        entries: the field's `max`, §9); returns its JSON view."""
        m = re.match(r"^map<(.+), (.+)>$", t)
        if m:
            n = r.u32()
            if n > (self.COUNT_BOUND if bound is None else bound): raise ValueError("map of %d entries, over its max" % n)
            if n > len(r.b) - r.i: raise ValueError("map count %d is larger than the bytes left" % n)
            out, previous = {}, None
            for _ in range(n):
                start = r.i
                key = self.read(r, m.group(1))
                raw = r.b[start:r.i]
                if previous is not None and not previous < raw: raise ValueError("map keys unsorted or repeated")
                previous = raw
                out[key] = self.read(r, m.group(2))
            return out
        m = re.match(r"^(array|set|optional)<(.+)>$", t)
        if m:
            inner = m.group(2)
            if m.group(1) == "optional":
                return self.read(r, inner) if r.marker() else None
            return r.elements(lambda: self.read(r, inner), m.group(1) == "set", self.COUNT_BOUND if bound is None else bound)
        if t == "string": return r.string(self.STRING_BOUND if bound is None else bound)
        if t == "bool": return r.bool()
        if t == "u8": return r.u8()
        if t == "u32": return r.u32()
        if t == "u64": return r.u64()
        if t == "i64": return r.i64()
        if t in ("hash32", "key32"): return r.raw(32).hex()
        if t in self.enums:
            tag = r.u8()
            if tag >= len(self.enums[t]): raise ValueError("unknown %s tag %d" % (t, tag))
            return self.enums[t][tag]
        if t in self.structs:
            return self.read_fields(r, self.structs[t])
        if t in self.unions:
            tag = r.u8()
            for case_tag, name, fields in self.unions[t]:
                if case_tag == tag:
                    out = self.read_fields(r, fields)
                    out["type"] = name
                    return out
            raise ValueError("unknown %s tag %d" % (t, tag))
        raise SystemExit("layouts: unknown type %s" % t)

    def read_fields(self, r, fields):
        out = {}
        for name, t, hidden, bound in fields:
            value = self.read(r, t, bound)
            if hidden is not None:
                if value != hidden: raise ValueError("%s must be %d" % (name, hidden))
                continue
            if value is not None:
                out[name] = value
        return out

    def payload_json(self, kind, payload):
        """The JSON view of a payload (None when the kind is unknown or the bytes do not decode)."""
        if kind not in self.kinds:
            return None
        try:
            r = Reader(payload, kind)
            value = self.read_fields(r, self.kinds[kind])
            r.end()
            return value
        except ValueError:
            return None

    # -------------------------------------------------------- the inverse, for testing §9's bounds against a decoder
    def write(self, t, v):
        """The canonical bytes of the JSON view `v` of type `t` (read's inverse; sets and maps sorted here)."""
        m = re.match(r"^map<(.+), (.+)>$", t)
        if m:
            entries = sorted((self.write(m.group(1), k), self.write(m.group(2), x)) for k, x in v.items())
            return u32(len(entries)) + b"".join(k + x for k, x in entries)
        m = re.match(r"^(array|set|optional)<(.+)>$", t)
        if m:
            if m.group(1) == "optional":
                return b"\x00" if v is None else b"\x01" + self.write(m.group(2), v)
            items = [self.write(m.group(2), x) for x in v]
            return u32(len(items)) + b"".join(sorted(items) if m.group(1) == "set" else items)
        if t == "string": return text(v)
        if t == "bool": return u8(1 if v else 0)
        if t == "u8": return u8(v)
        if t == "u32": return u32(v)
        if t == "u64": return u64(v)
        if t == "i64": return i64(v)
        if t in ("hash32", "key32"): return bytes.fromhex(v)
        if t in self.enums: return u8(self.enums[t].index(v))
        if t in self.structs: return self.write_fields(self.structs[t], v)
        if t in self.unions:
            for tag, name, fields in self.unions[t]:
                if name == v["type"]:
                    return u8(tag) + self.write_fields(fields, v)
        raise SystemExit("layouts: cannot write %s" % t)

    def write_fields(self, fields, obj):
        return b"".join(self.write(t, hidden if hidden is not None else obj.get(name)) for name, t, hidden, _ in fields)

    def default(self, t):
        """A small value of type `t` (an element for a list the sample left empty)."""
        if t.startswith("map<"): return {}
        if t.startswith("array<") or t.startswith("set<"): return []
        if t.startswith("optional<"): return None
        if t == "string": return "d"
        if t == "bool": return False
        if t in ("u8", "u32", "u64", "i64"): return 0
        if t in ("hash32", "key32"): return "00" * 32
        if t in self.enums: return self.enums[t][0]
        if t in self.structs: return {n: self.default(ft) for n, ft, hidden, _ in self.structs[t] if hidden is None}
        tag, name, fields = self.unions[t][0]
        return dict({n: self.default(ft) for n, ft, hidden, _ in fields if hidden is None}, type=name)

    def element(self, t, i, sample):
        """The i-th of a run of distinct values of type `t` (like `sample` when given), or None past the type's room."""
        if t == "string": return "e%d" % i
        if t in ("hash32", "key32"): return (i + 1).to_bytes(32, "big").hex()
        if t in self.enums: return self.enums[t][i % len(self.enums[t])]  # past its cases, a repeat: a set refuses it anyway
        if t in ("u8", "u32", "u64", "i64"): return i
        value = json.loads(json.dumps(sample if sample is not None else self.default(t)))
        for name, ft, hidden, _ in self.structs.get(t, []):
            if ft == "string" and hidden is None:
                value[name] = "e%d" % i
                return value
        return None

    def bounded_fields(self, t, v, path, bound):
        """(path, type, max) of every string and list reached in the JSON view `v` of type `t` (a list's first
        element, a map's first value), `max` None where §9 gives none."""
        m = re.match(r"^(array|set|map|optional)<(.+?)(, (.+))?>$", t)
        if t == "string":
            yield path, t, bound
        elif m and m.group(1) == "optional":
            if v is not None:
                yield from self.bounded_fields(m.group(2), v, path, None)
        elif m:
            yield path, t, bound
            if m.group(1) == "map":
                for key in sorted(v)[:1]:
                    yield from self.bounded_fields(m.group(4), v[key], path + [key], None)
            elif v:
                yield from self.bounded_fields(m.group(2), v[0], path + [0], None)
        elif t in self.structs or t in self.unions:
            fields = self.structs.get(t) or next(f for _, name, f in self.unions[t] if name == v["type"])
            for name, ft, hidden, b in fields:
                if hidden is None and name in v:
                    yield from self.bounded_fields(ft, v[name], path + [name], b)

    def bound_variants(self, kind, payload):
        """Payloads of `kind` made from a sample: for every string and list of it, one at its §9 `max` and one past it
        (a string of 60,000 bytes, a list of 300 entries where §9 gives none). Yields (what, bytes, decodes by §9)."""
        view = self.payload_json(kind, payload)
        if view is None:
            raise SystemExit("bounds: the sample of %s does not decode" % kind)

        def put(obj, path, value):
            obj = json.loads(json.dumps(obj))
            target = obj
            for step in path[:-1]:
                target = target[step]
            target[path[-1]] = value
            return obj

        for path, t, bound in self.bounded_fields_of_kind(kind, view):
            sizes = [(bound, True), (bound + 1, False)] if bound is not None else [(60000 if t == "string" else 300, True)]
            for n, expected in sizes:
                m = re.match(r"^(array|set|map)<(.+?)(, (.+))?>$", t)
                if t == "string":
                    value = "x" * n
                elif m.group(1) == "map":
                    value = {"k%04d" % i: "v" for i in range(n)}
                else:
                    current = view
                    for step in path: current = current[step]
                    sample = current[0] if current else None
                    if m.group(1) == "array" and sample is not None:
                        value = [sample] * n
                    else:
                        value = [self.element(m.group(2), i, sample) for i in range(n)]
                        if None in value: continue
                data = self.write_fields(self.kinds[kind], put(view, path, value))
                case = view.get("action", {}).get("type") if isinstance(view.get("action"), dict) else None
                yield ("%s%s %s=%d" % (kind, "[%s]" % case if case else "", ".".join(map(str, path)), n), data, expected)

    def bounded_fields_of_kind(self, kind, view):
        for name, t, hidden, bound in self.kinds[kind]:
            if hidden is None and name in view:
                yield from self.bounded_fields(t, view[name], [name], bound)


# ---------------------------------------------------------------- §6 JSON rules
def canonical_json(value):
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def parse_line(raw, number, what):
    try:
        value = json.loads(raw)
    except ValueError as e:
        raise Malformed("line %d: %s is not JSON: %s" % (number, what, e))
    if canonical_json(value) != raw:
        raise Malformed("line %d: %s is not in canonical form" % (number, what))
    return value


# ---------------------------------------------------------------- §2 structures
ROLES = ["governor", "regulator", "core_enterprise", "supplier", "financier", "clearing_agent", "proponent",
         "verifier", "registry_operator", "participant", "auditor"]


def strict(obj, required, optional=()):
    if not isinstance(obj, dict) or not set(required) <= set(obj) or not set(obj) <= set(required) | set(optional):
        raise Malformed("line 1: genesis_json: unknown or missing keys in %s" % sorted(obj) if isinstance(obj, dict) else "line 1: genesis_json: not an object")


HEX = re.compile(r"^(?:[0-9a-fA-F]{2})*$")


def hex_bytes(value, what, count=None):
    """Hex of either case, even length, nothing else (§6): else Malformed."""
    if not isinstance(value, str) or not HEX.match(value) or (count is not None and len(value) != 2 * count):
        raise Malformed("%s is not %shex" % (what, "%d bytes of " % count if count else ""))
    return bytes.fromhex(value)


def genesis_problem(g):
    """§2.1's loading rules (what `trellis` refuses a genesis for, exit 2), or None. JSON types first."""
    def integer(v, lo, hi): return isinstance(v, int) and not isinstance(v, bool) and lo <= v <= hi
    def ident(v): return isinstance(v, str) and re.fullmatch(r"[A-Za-z0-9._:-]{1,128}", v) is not None
    def size(v, lo, hi): return isinstance(v, str) and lo <= len(v.encode("utf-8")) <= hi
    def canonical(v): return unicodedata.normalize("NFD", v)  # Swift compares strings by canonical equivalence
    I64, U64, U32 = (-2 ** 63, 2 ** 63 - 1), (0, 2 ** 64 - 1), (0, 2 ** 32 - 1)
    if not isinstance(g["chain_id"], str) or not re.fullmatch(r"[a-z0-9._-]{1,64}", g["chain_id"]): return "chain_id"
    if not integer(g["genesis_time"], 1, I64[1]): return "genesis_time"
    if not isinstance(g["members"], list) or not g["members"]: return "no members"
    ids, keys, governors = set(), set(), 0
    for m in g["members"]:
        if not ident(m["member_id"]) or m["member_id"] in ids: return "member_id"
        ids.add(m["member_id"])
        if not size(m["legal_name"], 1, 512) or not size(m["registration_no"], 0, 512): return "legal_name or registration_no"
        ks = m["public_keys"]
        if not isinstance(ks, list) or not 1 <= len(ks) <= 16: return "public_keys"
        for k in ks:
            if not isinstance(k, str) or not re.fullmatch(r"[0-9a-fA-F]{64}", k): return "public key"
        raw = [bytes.fromhex(k) for k in ks]
        if len(set(raw)) != len(raw) or keys & set(raw): return "a public key twice"
        keys |= set(raw)
        if not isinstance(m["roles"], list) or any(r not in ROLES for r in m["roles"]) or len(set(m["roles"])) != len(m["roles"]): return "roles"
        governors += "governor" in m["roles"]
        accreditations = m.get("accreditations", [])
        if not isinstance(accreditations, list) or len(accreditations) > 256: return "accreditations"
        for a in accreditations:
            scopes = a["sectoral_scopes"]
            if not size(a["scheme"], 1, 512) or not isinstance(scopes, list) or not 1 <= len(scopes) <= 256: return "accreditation"
            if any(not size(x, 1, 512) for x in scopes) or len({canonical(x) for x in scopes}) != len(scopes): return "sectoral_scopes"
            if not integer(a["valid_from"], *I64) or not integer(a["valid_to"], *I64) or a["valid_from"] > a["valid_to"]: return "valid_from/valid_to"
            if not isinstance(a.get("active", True), bool): return "active"
    vs = g["validators"]
    if not isinstance(vs, list) or not 1 <= len(vs) <= 128: return "validators"
    names, vkeys, total = set(), set(), 0
    for v in vs:
        if not ident(v["name"]) or v["name"] in names: return "validator name"
        names.add(v["name"])
        if not isinstance(v["public_key"], str) or not re.fullmatch(r"[0-9a-fA-F]{64}", v["public_key"]) or v["public_key"].lower() in vkeys: return "validator key"
        vkeys.add(v["public_key"].lower())
        if not integer(v["voting_power"], 1, U64[1]): return "voting_power"
        total += v["voting_power"]
        address = v["p2p_address"]
        host, colon, port = address.rpartition(":") if isinstance(address, str) else ("", "", "")
        if not size(address, 0, 512) or not colon or not size(host, 1, 253) or not re.fullmatch(r"\+?[0-9]+", port) or not 0 < int(port) <= 65535:
            return "p2p_address"
    if total > 2 ** 63 - 1: return "total voting power"
    p = g["parameters"]
    if not (integer(p["max_maturity_seconds"], 1, I64[1]) and integer(p["grace_period_seconds"], 0, I64[1])
            and integer(p["governance_quorum"], 1, U32[1]) and integer(p["proposal_ttl_blocks"], 1, U64[1])
            and integer(p["max_tx_lifetime_blocks"], 1, U64[1]) and integer(p["accept_window_seconds"], 1, I64[1])
            and integer(p.get("min_upgrade_lead_blocks", 100), 1, U64[1]) and isinstance(p.get("require_document_attestation", False), bool)):
        return "parameters"
    if p["governance_quorum"] > governors: return "governance_quorum exceeds the governors"
    return None


def genesis_bytes(g):
    """§2.1: the canonical genesis from genesis.json (keys checked strictly)."""
    strict(g, ["chain_id", "genesis_time", "members", "validators", "parameters"])
    strict(g["parameters"], ["max_maturity_seconds", "grace_period_seconds", "governance_quorum", "proposal_ttl_blocks",
                             "max_tx_lifetime_blocks", "accept_window_seconds"], ["min_upgrade_lead_blocks", "require_document_attestation"])
    for m in g["members"]:
        strict(m, ["member_id", "legal_name", "registration_no", "public_keys", "roles"], ["accreditations"])
        for a in m.get("accreditations", []):
            strict(a, ["scheme", "sectoral_scopes", "valid_from", "valid_to"], ["active"])
    for v in g["validators"]:
        strict(v, ["name", "public_key", "voting_power", "p2p_address"])

    def member(m):
        keys = sorted(bytes.fromhex(k) for k in m["public_keys"])
        roles = sorted(ROLES.index(x) for x in m["roles"])
        accreditations = b"".join(
            text(a["scheme"]) + u32(len(a["sectoral_scopes"])) + b"".join(sorted(text(s) for s in a["sectoral_scopes"]))
            + i64(a["valid_from"]) + i64(a["valid_to"]) + u8(1 if a.get("active", True) else 0)
            for a in m.get("accreditations", []))
        return (text(m["member_id"]) + text(m["legal_name"]) + text(m["registration_no"])
                + u32(len(keys)) + b"".join(keys) + u32(len(roles)) + b"".join(u8(x) for x in roles)
                + u8(0) + u32(len(m.get("accreditations", []))) + accreditations)
    members = sorted(g["members"], key=lambda m: m["member_id"].encode("utf-8"))
    validators = sorted(g["validators"], key=lambda v: bytes.fromhex(v["public_key"]))
    p = g["parameters"]
    return (text(g["chain_id"]) + i64(g["genesis_time"])
            + u32(len(members)) + b"".join(member(m) for m in members)
            + u32(len(validators)) + b"".join(text(v["name"]) + bytes.fromhex(v["public_key"]) + u64(v["voting_power"]) + text(v["p2p_address"]) for v in validators)
            + i64(p["max_maturity_seconds"]) + i64(p["grace_period_seconds"]) + u32(p["governance_quorum"])
            + u64(p["proposal_ttl_blocks"]) + u64(p["max_tx_lifetime_blocks"]) + i64(p["accept_window_seconds"])
            + u64(p.get("min_upgrade_lead_blocks", 100)) + u8(1 if p.get("require_document_attestation", False) else 0))


def validator_set_bytes(validators):
    """validators: list of (key bytes, power, address), sorted by key."""
    return u32(len(validators)) + b"".join(k + u64(p) + text(a) for k, p, a in validators)


def sign_bytes(kind, chain_id, body):
    return b"trellis/v1/" + kind.encode() + b"\x00" + chain_id.encode() + b"\x00" + body


# §1.1: the structures' decoding bounds.
MAX_BLOCK_BYTES, MAX_TXS, MAX_EVIDENCE, MAX_COSIGNERS, MAX_VALIDATORS = 64 << 20, 20000, 128, 8, 128


def read_vote(r):
    start = r.i
    vote_type, height, rnd = r.u8(), r.u64(), r.u32()
    if vote_type not in (1, 2): raise ValueError("vote type %d" % vote_type)
    block_id = r.raw(32) if r.marker() else None
    validator = r.raw(32)
    body = r.b[start:r.i]
    return {"type": vote_type, "height": height, "round": rnd, "block_id": block_id, "validator": validator,
            "body": body, "signature": r.raw(64)}


def read_certificate(r):
    height, rnd, block_id = r.u64(), r.u32(), r.raw(32)
    signatures = r.elements(lambda: (r.raw(32), r.raw(64)), True, MAX_VALIDATORS)
    if len({key for key, _ in signatures}) != len(signatures): raise ValueError("a validator signs the certificate twice")
    return {"height": height, "round": rnd, "block_id": block_id, "signatures": signatures}


def read_transaction(r):
    start = r.i
    body = {"chain_id": r.string(64), "kind": r.string(64), "payload": r.bytes(65536), "signer": r.string(128),
            "nonce": r.u64(), "expires_at_height": r.u64(), "cosigners": r.elements(r.string, True, MAX_COSIGNERS)}
    if body["signer"] in body["cosigners"]: raise ValueError("the signer is its own co-signer")
    body_bytes = r.b[start:r.i]
    signatures = r.elements(lambda: (r.string(128), r.raw(32), r.raw(64)), True, MAX_COSIGNERS + 1)
    if len({m for m, _, _ in signatures}) != len(signatures): raise ValueError("a member signs twice")
    return {"body": body, "body_bytes": body_bytes, "signatures": signatures, "bytes": r.b[start:r.i]}


def read_block(data):
    if len(data) > MAX_BLOCK_BYTES: raise ValueError("a block of %d bytes" % len(data))
    r = Reader(data, "block")
    hs = r.i
    h = {"chain_id": r.string(64), "height": r.u64(), "round": r.u32(), "time": r.i64(), "app_version": r.u32(),
         "previous_block_hash": r.raw(32).hex(), "tx_count": r.u32(), "tx_root": r.raw(32).hex(),
         "receipts_root": r.raw(32).hex(), "state_root": r.raw(32).hex(), "validator_set_hash": r.raw(32).hex(),
         "next_validator_set_hash": r.raw(32).hex(), "proposer": r.raw(32).hex(), "last_commit_hash": r.raw(32).hex(),
         "evidence_hash": r.raw(32).hex()}
    header_bytes = r.b[hs:r.i]
    txs = r.elements(lambda: read_transaction(r), False, MAX_TXS)
    lc_start = r.i
    last_commit = read_certificate(r) if r.marker() else None
    lc_bytes = r.b[lc_start + 1:r.i] if last_commit else None
    ev_start = r.i
    evidence = r.elements(lambda: (read_vote(r), read_vote(r)), False, MAX_EVIDENCE)
    evidence_bytes = r.b[ev_start:r.i]
    r.end()
    return h, header_bytes, txs, last_commit, lc_bytes, evidence, evidence_bytes


def read_receipt(data):
    r = Reader(data, "receipt")
    tx_hash, index, consumed = r.raw(32), r.u32(), r.bool()
    tag = r.u8()
    view = {"tx_hash": tx_hash.hex(), "index": index, "nonce_consumed": consumed, "canonical_hex": data.hex()}
    if tag == 0:
        view["status"] = "ok"
        view["created_ids"] = r.elements(r.string, False, 256)
    elif tag == 1:
        view["status"] = "rejected"
        view["code"], view["message"] = r.string(64), r.string(1024)
    else:
        raise ValueError("receipt: unknown outcome tag %d" % tag)
    r.end()
    return view


# ---------------------------------------------------------------- §4 Merkle trees
def merkle_root(leaves):
    if not leaves: return sha(b"")
    if len(leaves) == 1: return sha(b"\x00" + leaves[0])
    k = 1
    while k * 2 < len(leaves): k *= 2
    return sha(b"\x01" + merkle_root(leaves[:k]) + merkle_root(leaves[k:]))


# ---------------------------------------------------------------- §6.1 the verification
def quorum(total):
    return (2 * total) // 3 + 1


def check_certificate(cert, chain, validators, what, h):
    """validators: dict key -> power (the set in force at the certificate's height)."""
    power = 0
    if len({key for key, _ in cert["signatures"]}) != len(cert["signatures"]):
        raise Invalid("height %d: %s names a validator twice" % (h, what))
    for key, signature in cert["signatures"]:
        if key not in validators:
            raise Invalid("height %d: %s signer %s is not a validator at height %d" % (h, what, key.hex(), cert["height"]))
        vote = u8(2) + u64(cert["height"]) + u32(cert["round"]) + b"\x01" + cert["block_id"] + key
        if not ed25519_valid(key, signature, sign_bytes("precommit", chain, vote)):
            raise Invalid("height %d: %s signature of validator %s does not verify" % (h, what, key.hex()))
        power += validators[key]
    total = sum(validators.values())
    if power < quorum(total):
        raise Invalid("height %d: %s has voting power %d, needs %d" % (h, what, power, quorum(total)))


# §6.3 step 4: the envelope checks up to the signer check, and up to the signature check, in the executor's order.
CODES_UP_TO_SIGNER_CHECK = {"wrong_chain", "expired", "expiry_too_far", "unknown_kind", "missing_signature"}
CODES_UP_TO_SIGNATURE_CHECK = CODES_UP_TO_SIGNER_CHECK | {"invalid_signature"}


def verify_file(path, schema, pinned=None):
    with open(path, "rb") as f:
        data = f.read()
    if not data: raise Malformed("line 1: the file is empty")
    if not data.endswith(b"\n"): raise Malformed("line %d: no final newline (truncated?)" % (data.count(b"\n") + 1))
    rows = data[:-1].split(b"\n")
    try:
        rows = [r.decode("utf-8") for r in rows]
    except UnicodeDecodeError:
        raise Malformed("a line is not UTF-8")
    head = parse_line(rows[0], 1, "the header")
    if head.get("format") != "trellis-chain-export": raise Malformed("line 1: not a chain export")
    if head.get("version") != 2: raise Malformed("line 1: unsupported format version %r" % head.get("version"))
    if set(head) != {"chain_id", "format", "from_height", "genesis_hash", "genesis_json", "to_height", "version"}:
        raise Malformed("line 1: unknown or missing header fields")
    if pinned is not None and head["genesis_hash"] != pinned:
        raise Invalid("the export is of genesis %s, not the trusted genesis %s" % (head["genesis_hash"], pinned))
    try:
        genesis = json.loads(head["genesis_json"])
        canonical_genesis = genesis_bytes(genesis)
        problem = genesis_problem(genesis)
    except Malformed:
        raise
    except (ValueError, KeyError, TypeError, AttributeError, struct.error) as e:
        raise Malformed("line 1: genesis_json is not a genesis document: %s: %s" % (type(e).__name__, e))
    if problem is not None: raise Malformed("line 1: genesis_json breaks a loading rule of §2.1: %s" % problem)
    if sha(canonical_genesis).hex() != head["genesis_hash"]: raise Invalid("genesis: genesis_json does not hash to genesis_hash")
    chain = genesis["chain_id"]
    if chain != head["chain_id"]: raise Invalid("genesis: chain id differs from the header's")
    if head["from_height"] != 1: raise Malformed("line 1: verification starts at height 1")
    if len(rows) - 1 != head["to_height"]: raise Malformed("line %d: the file has %d block lines, the header declares %d" % (len(rows), len(rows) - 1, head["to_height"]))

    genesis_set = sorted((bytes.fromhex(v["public_key"]), v["voting_power"], v["p2p_address"]) for v in genesis["validators"])
    sets = {1: genesis_set, 2: genesis_set}  # the set in force at each height
    previous = bytes.fromhex(head["genesis_hash"])  # block 1 links to the genesis (§2)
    previous_time = None
    previous_version = 1
    recorded = set()  # (validator, height) of evidence already in the chain
    txs_total = sigs = 0
    for number, raw in enumerate(rows[1:], start=2):
        h = number - 1
        line = parse_line(raw, number, "block line")
        allowed = {"block_hash", "block_hex", "certificate_hex", "header", "height", "receipts", "transactions", "validator_set_change"}
        if not set(line) <= allowed or not (allowed - {"validator_set_change"}) <= set(line):
            raise Malformed("line %d: unknown or missing fields" % number)
        if line["height"] != h: raise Malformed("line %d: expected height %d" % (number, h))
        block_data = hex_bytes(line["block_hex"], "line %d: block_hex" % number)
        certificate_data = hex_bytes(line["certificate_hex"], "line %d: certificate_hex" % number)
        try:
            header, header_bytes, txs, last_commit, lc_bytes, evidence, evidence_bytes = read_block(block_data)
        except ValueError as e:
            raise Invalid("height %d: block bytes do not decode: %s" % (h, e))
        block_hash = sha(header_bytes)
        if header["height"] != h: raise Invalid("height %d: block_hex is for height %d" % (h, header["height"]))
        if line["header"] != header: raise Invalid("height %d: the decoded header fields differ from the canonical bytes" % h)
        if line["block_hash"] != block_hash.hex(): raise Invalid("height %d: block_hash is not SHA-256 of the header" % h)
        if header["chain_id"] != chain: raise Invalid("height %d: header of another chain" % h)
        if bytes.fromhex(header["previous_block_hash"]) != previous: raise Invalid("height %d: previous_block_hash does not link" % h)
        # §6.3 step 2: 1 at height 1, then the previous block's or one more (which one, re-execution settles).
        if header["app_version"] not in ((1,) if h == 1 else (previous_version, previous_version + 1)):
            raise Invalid("height %d: app_version %d after %s" % (h, header["app_version"], previous_version if h > 1 else "the genesis (1)"))
        previous_version = header["app_version"]
        if (h == 1 and header["time"] < genesis["genesis_time"]) or (h > 1 and header["time"] <= previous_time):
            raise Invalid("height %d: block time %d is not after the previous block's" % (h, header["time"]))
        previous_time = header["time"]
        # Transactions.
        if header["tx_count"] != len(txs): raise Invalid("height %d: tx_count %d, but %d transactions" % (h, header["tx_count"], len(txs)))
        hashes = [sha(t["bytes"]) for t in txs]
        if merkle_root(hashes).hex() != header["tx_root"]: raise Invalid("height %d: tx_root" % h)
        views = []
        signed = []  # per transaction: (all its signatures verify, exactly its required signers signed)
        for t, tx_hash in zip(txs, hashes):
            b = t["body"]
            view = {"hash": tx_hash.hex(), "kind": b["kind"], "signer": b["signer"], "nonce": b["nonce"],
                    "expires_at_height": b["expires_at_height"], "cosigners": b["cosigners"], "payload_hex": b["payload"].hex(),
                    "signatures": [{"member_id": m, "public_key": k.hex(), "signature": s.hex()} for m, k, s in t["signatures"]]}
            decoded = schema.payload_json(b["kind"], b["payload"])
            if decoded is not None:
                view["payload_json"] = canonical_json(decoded)
            views.append(view)
            # §6.3 step 4: a bad transaction signature is no fault of the chain; its receipt is checked below.
            valid = all(ed25519_valid(k, s, sign_bytes("tx", chain, t["body_bytes"])) for _, k, s in t["signatures"])
            required = {b["signer"]} | set(b["cosigners"])
            signed.append((valid, {m for m, _, _ in t["signatures"]} == required and len(t["signatures"]) == len(required)))
            sigs += len(t["signatures"])
        for i, (given, expected) in enumerate(zip(line["transactions"], views)):
            if given.get("payload_json") != expected.get("payload_json"):
                raise Invalid("height %d: transaction %d: payload_json is not payload_hex decoded by its kind's layout (§9)" % (h, i))
        if line["transactions"] != views: raise Invalid("height %d: the decoded transactions differ from the canonical bytes" % h)
        txs_total += len(txs)
        # Receipts (§4, §6.1): one per transaction, bound by receipts_root.
        if len(line["receipts"]) != len(txs): raise Invalid("height %d: %d receipts for %d transactions" % (h, len(line["receipts"]), len(txs)))
        leaves = []
        for i, given in enumerate(line["receipts"]):
            try:
                view = read_receipt(bytes.fromhex(given["canonical_hex"]))
            except ValueError as e:
                raise Invalid("height %d: receipt %d: %s" % (h, i, e))
            if view != given: raise Invalid("height %d: receipt %d: the decoded fields differ from canonical_hex" % (h, i))
            if view["tx_hash"] != hashes[i].hex() or view["index"] != i: raise Invalid("height %d: receipt %d names another transaction" % (h, i))
            valid, signers_present = signed[i]
            if not (valid and signers_present):
                codes = CODES_UP_TO_SIGNATURE_CHECK if signers_present else CODES_UP_TO_SIGNER_CHECK
                fault = "a signature does not verify" if signers_present else "it lacks a required signer"
                if view["status"] != "rejected" or view["nonce_consumed"] or view["code"] not in codes:
                    raise Invalid("height %d: transaction %d: %s, but its receipt is not a rejection with the nonce unused and code in %s"
                                  % (h, i, fault, sorted(codes)))
            leaves.append(sha(bytes.fromhex(given["canonical_hex"])))
        if merkle_root(leaves).hex() != header["receipts_root"]: raise Invalid("height %d: receipts_root does not match the receipts" % h)
        # Validator sets.
        in_force = sets[h]
        if sha(validator_set_bytes(in_force)).hex() != header["validator_set_hash"]: raise Invalid("height %d: validator_set_hash is not the set in force" % h)
        if sha(validator_set_bytes(sets[h + 1])).hex() != header["next_validator_set_hash"]: raise Invalid("height %d: next_validator_set_hash is not the next set" % h)
        if bytes.fromhex(header["proposer"]) not in {k for k, _, _ in in_force}: raise Invalid("height %d: the proposer is not a validator" % h)
        change = line.get("validator_set_change")
        if change is not None:
            if change["effective_height"] != h + 2: raise Invalid("height %d: validator_set_change effective height" % h)
            new = [(bytes.fromhex(v["public_key"]), v["voting_power"], v["p2p_address"]) for v in change["validators"]]
            if new != sorted(new) or len({k for k, _, _ in new}) != len(new) or not new or any(p == 0 for _, p, _ in new):
                raise Invalid("height %d: validator_set_change is not a valid set" % h)
            if sha(validator_set_bytes(new)).hex() != change["validator_set_hash"]: raise Invalid("height %d: validator_set_change hash" % h)
            if set(change) != {"effective_height", "validator_set_hash", "validators"}: raise Malformed("line %d: validator_set_change fields" % number)
            if new == sets[h + 1]: raise Invalid("height %d: validator_set_change announces the set already in force at height %d" % (h, h + 1))
            sets[h + 2] = new
        else:
            sets[h + 2] = sets[h + 1]
        # This block's certificate.
        try:
            r = Reader(certificate_data, "certificate")
            cert = read_certificate(r)
            r.end()
        except ValueError as e:
            raise Invalid("height %d: certificate bytes do not decode: %s" % (h, e))
        if cert["height"] != h or cert["block_id"] != block_hash: raise Invalid("height %d: the certificate is for another block" % h)
        check_certificate(cert, chain, {k: p for k, p, _ in in_force}, "certificate", h)
        sigs += len(cert["signatures"])
        # The previous block's certificate carried here.
        if h == 1:
            if last_commit is not None or header["last_commit_hash"] != "00" * 32: raise Invalid("height 1: carries a last commit")
        else:
            if last_commit is None: raise Invalid("height %d: no last commit" % h)
            if sha(lc_bytes).hex() != header["last_commit_hash"]: raise Invalid("height %d: last_commit_hash" % h)
            if last_commit["height"] != h - 1 or last_commit["block_id"] != previous: raise Invalid("height %d: last commit is for another block" % h)
            check_certificate(last_commit, chain, {k: p for k, p, _ in sets[h - 1]}, "last commit", h)
            sigs += len(last_commit["signatures"])
        # Evidence.
        if sha(evidence_bytes).hex() != header["evidence_hash"]: raise Invalid("height %d: evidence_hash" % h)
        for first, second in evidence:
            same = all(first[k] == second[k] for k in ("type", "height", "round", "validator"))
            if not same or first["block_id"] == second["block_id"] or not (first["body"] + first["signature"]) < (second["body"] + second["signature"]):
                raise Invalid("height %d: evidence is not a pair of conflicting votes" % h)
            if first["height"] >= h or first["validator"] not in {k for k, _, _ in sets.get(first["height"], [])}:
                raise Invalid("height %d: evidence names no validator of an earlier height" % h)
            if (first["validator"], first["height"]) in recorded: raise Invalid("height %d: evidence recorded twice" % h)
            recorded.add((first["validator"], first["height"]))
            for v in (first, second):
                kind = {1: "prevote", 2: "precommit"}.get(v["type"])
                if kind is None or not ed25519_valid(v["validator"], v["signature"], sign_bytes(kind, chain, v["body"])):
                    raise Invalid("height %d: an evidence vote does not verify" % h)
        previous = block_hash
    return "ok: %d blocks, %d transactions, %d signatures, genesis %s" % (len(rows) - 1, txs_total, sigs, head["genesis_hash"])


def run_one(path, schema, pinned):
    try:
        return 0, verify_file(path, schema, pinned)
    except Invalid as e:
        return 1, str(e)
    except Malformed as e:
        return 2, str(e)
    except (ValueError, KeyError, TypeError, AttributeError, IndexError) as e:
        return 2, "malformed input: %s: %s" % (type(e).__name__, e)


# ---------------------------------------------------------------- §8 worked examples
def examples(schema):
    key = Ed25519PrivateKey.from_private_bytes(bytes([7]) * 32)
    pub = key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    cos = Ed25519PrivateKey.from_private_bytes(bytes([8]) * 32)
    cos_pub = cos.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    out = []
    # A transaction of a co-signed kind: credit_line.set by bank1, co-signed by core1.
    payload = text("line1") + text("core1") + u64(1000000) + i64(1767225600)
    assert schema.payload_json("credit_line.set", payload) == {"line_id": "line1", "core": "core1", "limit": 1000000, "expiry": 1767225600}
    body = text("example-chain") + text("credit_line.set") + blob(payload) + text("bank1") + u64(1) + u64(10) + u32(1) + text("core1")
    message = sign_bytes("tx", "example-chain", body)
    signatures = sorted([text("bank1") + pub + key.sign(message), text("core1") + cos_pub + cos.sign(message)])
    tx = body + u32(2) + b"".join(signatures)
    out += [("public_key", pub.hex()), ("cosigner_public_key", cos_pub.hex()), ("payload", payload.hex()),
            ("body", body.hex()), ("sign_bytes", message.hex()), ("transaction", tx.hex()), ("transaction_hash", sha(tx).hex())]
    # Its receipt (ok, nothing created) and a receipts root of that one receipt.
    receipt = sha(tx) + u32(0) + u8(1) + u8(0) + u32(0)
    out += [("receipt", receipt.hex()), ("receipts_root", merkle_root([sha(receipt)]).hex())]
    # Two more receipts (stand-in tx hashes): a rejection and an ok that created an id; roots of two and three leaves.
    receipt_1 = bytes([0x11]) * 32 + u32(1) + u8(1) + u8(1) + text("credit_line_exceeded") + text("limit 1000000 would be exceeded")
    receipt_2 = bytes([0x22]) * 32 + u32(2) + u8(1) + u8(0) + u32(1) + text("cert-1")
    out += [("receipt_1", receipt_1.hex()), ("receipt_2", receipt_2.hex()),
            ("receipts_root_2", merkle_root([sha(receipt), sha(receipt_1)]).hex()),
            ("receipts_root_3", merkle_root([sha(receipt), sha(receipt_1), sha(receipt_2)]).hex())]
    # A certificate of one validator (the example key, power 1) for a block id of 32 bytes 0xab at height 5, round 0.
    block_id = bytes([0xAB]) * 32
    vote = u8(2) + u64(5) + u32(0) + b"\x01" + block_id + pub
    certificate = u64(5) + u32(0) + block_id + u32(1) + pub + key.sign(sign_bytes("precommit", "example-chain", vote))
    out += [("precommit_sign_bytes", sign_bytes("precommit", "example-chain", vote).hex()), ("certificate", certificate.hex())]
    # A genesis.
    genesis = {"chain_id": "example-chain", "genesis_time": 1767225600,
               "members": [{"member_id": "gov1", "legal_name": "Gov One", "registration_no": "REG-1", "public_keys": [pub.hex()], "roles": ["governor", "regulator"], "accreditations": []}],
               "validators": [{"name": "v1", "public_key": pub.hex(), "voting_power": 1, "p2p_address": "127.0.0.1:26656"}],
               "parameters": {"max_maturity_seconds": 31536000, "grace_period_seconds": 2592000, "governance_quorum": 1,
                              "proposal_ttl_blocks": 100000, "max_tx_lifetime_blocks": 10000, "accept_window_seconds": 604800}}
    out += [("genesis", genesis_bytes(genesis).hex()), ("genesis_hash", sha(genesis_bytes(genesis)).hex())]
    for k, v in out:
        print("example.%s: %s" % (k, v))


def main(argv):
    doc, pinned, args = DEFAULT_DOC, None, []
    i = 0
    while i < len(argv):
        if argv[i] == "--doc": doc = argv[i + 1]; i += 2
        elif argv[i] == "--genesis-hash": pinned = argv[i + 1]; i += 2
        else: args.append(argv[i]); i += 1
    with open(doc, encoding="utf-8") as f:
        schema = Schema(f.read())
    if args and args[0] == "--examples":
        examples(schema); return 0
    if len(args) == 2 and args[0] == "--payloads":
        bad = 0
        with open(args[1], encoding="utf-8") as f:
            for n, raw in enumerate(f, start=1):
                item = json.loads(raw)
                got = schema.payload_json(item["kind"], bytes.fromhex(item["payload_hex"]))
                if got is None or got != json.loads(item["payload_json"]):
                    print("payload %d (%s): decoded %s, expected %s" % (n, item["kind"], got, item["payload_json"])); bad += 1
        print("payloads: %d mismatches" % bad)
        return 1 if bad else 0
    if len(args) == 2 and args[0] == "--ed25519":
        # Lines "NAME PUBLIC_KEY SIGNATURE MESSAGE" (hex): "NAME: valid|invalid (rfc8032 alone: valid|invalid)".
        with open(args[1], encoding="utf-8") as f:
            for raw in f:
                name, pk, sig, msg = raw.split()
                pk, sig, msg = bytes.fromhex(pk), bytes.fromhex(sig), bytes.fromhex(msg)
                try:
                    Ed25519PublicKey.from_public_bytes(pk).verify(sig, msg); alone = "valid"
                except (InvalidSignature, ValueError):
                    alone = "invalid"
                print("%s: %s (rfc8032 alone: %s)" % (name, "valid" if ed25519_valid(pk, sig, msg) else "invalid", alone))
        return 0
    if len(args) == 2 and args[0] == "--bounds":
        # Each sample payload ({kind, payload_hex}) gives a payload at and past every §9 bound: printed as JSON lines
        # {what, kind, payload_hex, decodes, payload_json} for the Trellis decoders to be compared with.
        bad = 0
        with open(args[1], encoding="utf-8") as f:
            for raw in f:
                item = json.loads(raw)
                for what, data, expected in schema.bound_variants(item["kind"], bytes.fromhex(item["payload_hex"])):
                    view = schema.payload_json(item["kind"], data)
                    if (view is not None) != expected:
                        print("bounds: %s: §9 says it %s, yet this reading of §9 says otherwise" % (what, "decodes" if expected else "does not decode")); bad += 1
                    line = {"what": what, "kind": item["kind"], "payload_hex": data.hex(), "decodes": view is not None}
                    if view is not None: line["payload_json"] = canonical_json(view)
                    print(canonical_json(line))
        return 1 if bad else 0
    if len(args) == 2 and args[0] == "--canonical":
        bad = 0
        with open(args[1], encoding="utf-8") as f:
            for n, raw in enumerate(f.read().split("\n")[:-1], start=1):
                if canonical_json(json.loads(raw)) != raw:
                    print("line %d is not what §6.1 writes: %r" % (n, raw)); bad += 1
        print("canonical: %d mismatches" % bad)
        return 1 if bad else 0
    if len(args) == 2 and args[0] == "--batch":
        for name in sorted(os.listdir(args[1])):
            if name.endswith(".jsonl"):
                status, message = run_one(os.path.join(args[1], name), schema, pinned)
                print("%s: %s" % (name, "ok" if status == 0 else "exit %d: %s" % (status, message)))
        return 0
    if len(args) != 1:
        print(__doc__); return 2
    status, message = run_one(args[0], schema, pinned)
    print(message if status == 0 else "FAIL: " + message)
    return status


sys.exit(main(sys.argv[1:]))
