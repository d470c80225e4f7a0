"""libpq connection strings: parsed as libpq parses them, masked by parsing, rebuilt as one canonical URL.

Both forms libpq accepts are understood — the URI (``postgresql://user:pw@host:port,host2/db?key=value``)
and the keyword/value DSN (``host=db password='s e c'``) — with libpq's own rules
(``conninfo_uri_parse_options`` / ``conninfo_parse`` in ``fe-connect.c``): credentials are
present when an ``@`` comes before the first ``/``; ``#`` and ``?`` are ordinary characters
in a password; query parameters override the netloc; ``ssl=true`` means ``sslmode=require``.

Three things on top of libpq, because dbops must never leak a password:

* ``parse_conninfo`` is stricter than libpq where libpq would silently read something else
  than the user meant (a raw ``/`` or a second ``@`` in a password moves the password into
  the host or the database name) or would fail later with a message that echoes the input
  (bad percent-escape, non-numeric port). Its errors (``ConnInfoError``) give the character
  position and what is wrong, never the input itself;
* ``mask_conninfo`` never fails: it masks whatever looks like a secret in any string,
  conservatively (everything up to the *last* ``@`` is user:password);
* every secret seen is registered, and ``redact`` removes registered secrets and anything
  that looks like a connection string from free text (exception messages, tracebacks).

>>> parse_conninfo("postgresql://app:p#ss@db:6432/hc?sslmode=require")
{'user': 'app', 'password': 'p#ss', 'host': 'db', 'port': '6432', 'dbname': 'hc', 'sslmode': 'require'}
>>> mask_conninfo("postgresql://app:p/ss@db/hc"), mask_conninfo("host=db password='a b' dbname=x")
('postgresql://app:***@db/hc', 'host=db password=*** dbname=x')
>>> to_url({"host": "/run/pg", "port": "5999", "user": "postgres", "dbname": "healthcare"})
'postgresql://postgres@/healthcare?host=/run/pg&port=5999'
"""

from __future__ import annotations

import ipaddress
import re
import threading
from collections.abc import Collection, Mapping
from functools import cache
from urllib.parse import quote

#: Connection parameters whose value is a secret (libpq's ``*`` display flag, and the SCRAM keys).
SECRET_KEYS = frozenset({"password", "sslpassword", "oauth_client_secret", "scram_client_key", "scram_server_key"})

#: libpq 18's keywords, used only to recognise where a masked value ends (validation asks libpq itself).
KNOWN_KEYWORDS = frozenset(
    {
        "service",
        "user",
        "password",
        "passfile",
        "channel_binding",
        "connect_timeout",
        "dbname",
        "host",
        "hostaddr",
        "port",
        "client_encoding",
        "options",
        "application_name",
        "fallback_application_name",
        "keepalives",
        "keepalives_idle",
        "keepalives_interval",
        "keepalives_count",
        "tcp_user_timeout",
        "sslmode",
        "sslnegotiation",
        "sslcompression",
        "sslcert",
        "sslkey",
        "sslcertmode",
        "sslpassword",
        "sslrootcert",
        "sslcrl",
        "sslcrldir",
        "sslsni",
        "requirepeer",
        "require_auth",
        "min_protocol_version",
        "max_protocol_version",
        "ssl_min_protocol_version",
        "ssl_max_protocol_version",
        "gssencmode",
        "krbsrvname",
        "gsslib",
        "gssdelegation",
        "replication",
        "target_session_attrs",
        "load_balance_hosts",
        "scram_client_key",
        "scram_server_key",
        "oauth_issuer",
        "oauth_client_id",
        "oauth_client_secret",
        "oauth_scope",
        "sslkeylogfile",
        "ssl",
    }
)

_SCHEME = re.compile(r"(?P<scheme>[A-Za-z][A-Za-z0-9+.-]*)://")
_POSTGRES_SCHEME = re.compile(r"postgres(?:ql)?(?:\+[A-Za-z0-9_]+)?", re.IGNORECASE)
_SPACE = " \t\n\r\f\v"  # C isspace() in the C locale: what libpq skips between key=value pairs
_HEX = "0123456789abcdefABCDEF"
MASK = "***"


class ConnInfoError(ValueError):
    """A malformed connection string: ``position`` (1-based character) and what is wrong; never the input."""

    def __init__(self, position: int | None, problem: str, hint: str = "") -> None:
        self.position = position
        self.problem = problem
        self.hint = hint
        super().__init__(f"at character {position}: {problem}" if position else problem)


# -- parsing --------------------------------------------------------------------------------------------


def is_url(text: str) -> bool:
    """True when ``text`` starts like a URL (``scheme://``), PostgreSQL or not."""
    return _SCHEME.match(text.lstrip()) is not None


def parse_conninfo(text: str, *, keywords: Collection[str] | None = None) -> dict[str, str]:
    """The explicit parameters of a connection string, as libpq's ``PQconninfoParse`` would return them.

    Raises ConnInfoError for anything libpq would refuse, and for what libpq would misread
    (see the module docstring). ``keywords``: the valid parameter names (default: libpq's own).
    Every secret found is registered for ``redact``.
    """
    if not isinstance(text, str):
        raise ConnInfoError(1, "not a string")
    _check_characters(text)
    valid = frozenset(keywords) if keywords is not None else libpq_keywords()
    lead = len(text) - len(text.lstrip())
    end = len(text.rstrip())
    if end == 0:
        raise ConnInfoError(None, "empty connection string", "use postgresql://user:password@host:port/database")
    match = _SCHEME.match(text, lead)
    blank = next((i for i, char in enumerate(text) if char in _SPACE), None) if match else None
    if blank is not None:  # libpq versions differ (kept, trimmed, or refused): dbops refuses, the same everywhere
        raise ConnInfoError(
            blank + 1,
            "blank space in the URL",
            "remove it (a newline copied with the URL?), or percent-encode a meant space as %20",
        )
    if match:
        if not _POSTGRES_SCHEME.fullmatch(match["scheme"]):
            raise ConnInfoError(
                lead + 1,
                "not a PostgreSQL URL (the scheme must be postgresql:// or postgres://)",
                "use postgresql://user:password@host:port/database",
            )
        params = _parse_uri(text, match.end(), valid)
    elif "=" in text:
        params = _parse_keywords(text, valid)
    else:
        raise ConnInfoError(
            lead + 1,
            "neither a postgresql:// URL nor key=value pairs",
            "use postgresql://user:password@host:port/database",
        )
    for key in SECRET_KEYS & params.keys():
        register_secret(params[key])
    _check_values(params)
    return params


def _check_characters(text: str) -> None:
    for index, char in enumerate(text):
        if char == "\0":
            raise ConnInfoError(index + 1, "a NUL character is not allowed")
        if "\ud800" <= char <= "\udfff":  # undecodable bytes from argv/environ (surrogateescape)
            raise ConnInfoError(index + 1, "not UTF-8 text", "write the connection string in UTF-8")


def _parse_uri(text: str, start: int, valid: frozenset[str]) -> dict[str, str]:
    """libpq's conninfo_uri_parse_options; ``start`` is the 0-based index after ``scheme://``."""
    params: dict[str, str] = {}
    n = len(text)
    first_at = text.find("@", start)
    first_slash = text.find("/", start)
    p = start
    if first_at != -1 and (first_slash == -1 or first_at < first_slash):
        # user[:password]@ — everything up to the first '@' (libpq's rule)
        creds = text[start:first_at]
        user, colon, password = creds.partition(":")
        if user:
            params["user"] = _decode(text, start, user)
        if colon and password:
            register_secret(password)
            params["password"] = _decode(text, start + len(user) + 1, password)
        p = first_at + 1
        extra_at = text.find("@", p)
        if extra_at != -1:
            raise ConnInfoError(
                first_at + 1,
                "more than one '@': libpq would read part of the password as the host",
                "percent-encode '@' in a password (or anywhere after it) as %40",
            )
    elif first_at != -1 and ":" in text[start:first_at]:
        # user:pass/word@host — libpq would read "user:pass" as host:port and the rest as the database name
        register_secret(text[start:first_at].partition(":")[2])
        raise ConnInfoError(
            first_slash + 1,
            "a '/' comes before the '@' that ends user:password (libpq would read the password as host:port/database)",
            "percent-encode '/' in a password as %2F, and any other '@' as %40",
        )
    hosts: list[str] = []
    ports: list[str] = []
    terminator = ""
    while True:
        if p < n and text[p] == "[":
            close = text.find("]", p + 1)
            if close == -1:
                raise ConnInfoError(
                    p + 1, "'[' opens an IPv6 address that is never closed by ']'", "write an IPv6 host as [::1]"
                )
            if close == p + 1:
                raise ConnInfoError(p + 1, "empty IPv6 address '[]'", "write an IPv6 host as [::1]")
            address = text[p + 1 : close]
            try:
                ipaddress.IPv6Address(address.split("%", 1)[0])
            except ValueError:
                raise ConnInfoError(
                    p + 2, "not a valid IPv6 address between '[' and ']'", "write an IPv6 host as [::1]"
                ) from None
            host, p = address, close + 1
            if p < n and text[p] not in ":/?,":
                raise ConnInfoError(p + 1, "unexpected character after ']' (expected ':', '/', '?' or ',')")
        else:
            host_start = p
            while p < n and text[p] not in ":/?,":
                p += 1
            host = _decode(text, host_start, text[host_start:p])
        terminator = text[p] if p < n else ""
        hosts.append(host)
        if terminator == ":":
            port_start = p + 1
            p = port_start
            while p < n and text[p] not in "/?,":
                p += 1
            port = _decode(text, port_start, text[port_start:p])
            _check_port(port, port_start)
            ports.append(port)
            terminator = text[p] if p < n else ""
        else:
            ports.append("")
        if terminator != ",":
            break
        p += 1
    host_value = ",".join(hosts)
    port_value = ",".join(ports)
    if host_value:
        params["host"] = host_value
    if port_value:
        params["port"] = port_value
    if terminator == "/":
        db_start = p + 1
        query_at = text.find("?", db_start)
        db_end = query_at if query_at != -1 else n
        dbname = _decode(text, db_start, text[db_start:db_end])
        if dbname:
            params["dbname"] = dbname
        p = db_end
        terminator = "?" if p < n else ""
    if terminator == "?":
        _parse_query(text, p + 1, params, valid)
    return params


def _parse_query(text: str, start: int, params: dict[str, str], valid: frozenset[str]) -> None:
    """libpq's conninfo_uri_parse_params: ``key=value`` pairs separated by ``&`` (later ones win)."""
    p = start
    n = len(text)
    while p < n:
        end = text.find("&", p)
        end = n if end == -1 else end
        piece = text[p:end]
        key, equals, value = piece.partition("=")
        if not equals:
            raise ConnInfoError(p + 1, "query parameter without '=' (expected key=value)")
        if "=" in value:
            raise ConnInfoError(
                p + len(key) + 2 + value.index("="),
                "a second '=' in one query parameter",
                "percent-encode '=' in a value as %3D",
            )
        name = _decode(text, p, key)
        decoded = _decode(text, p + len(key) + 1, value)
        if name in SECRET_KEYS or key.lower() in SECRET_KEYS:
            register_secret(value)
            register_secret(decoded)
        if name == "ssl" and decoded == "true":  # libpq's JDBC compatibility
            name, decoded = "sslmode", "require"
        if name not in valid:
            raise ConnInfoError(p + 1, "unknown connection parameter in the query string", _suggest(name, valid))
        if name == "port":
            for offset, port in _list_items(decoded):
                _check_port(port, p + len(key) + 1 + offset)
        params[name] = decoded
        p = end + 1


def _parse_keywords(text: str, valid: frozenset[str]) -> dict[str, str]:
    """libpq's conninfo_parse: ``key = value`` pairs, values bare (with ``\\`` escapes) or single-quoted."""
    params: dict[str, str] = {}
    p = 0
    n = len(text)
    while p < n:
        if text[p] in _SPACE:
            p += 1
            continue
        key_start = p
        while p < n and text[p] != "=" and text[p] not in _SPACE:
            p += 1
        key = text[key_start:p]
        while p < n and text[p] in _SPACE:
            p += 1
        if p >= n or text[p] != "=":
            raise ConnInfoError(key_start + 1, "expected key=value", "write key=value pairs, e.g. host=db dbname=app")
        p += 1
        while p < n and text[p] in _SPACE:
            p += 1
        value_start = p
        chars: list[str] = []
        if p < n and text[p] == "'":
            p += 1
            while True:
                if p >= n:
                    if key in SECRET_KEYS:
                        register_secret(text[value_start:])
                    raise ConnInfoError(
                        value_start + 1,
                        "unterminated quoted value (no closing ')",
                        "close the quote; write \\' for a quote inside the value",
                    )
                char = text[p]
                if char == "\\":
                    p += 1
                    if p < n:
                        chars.append(text[p])
                        p += 1
                    continue
                if char == "'":
                    p += 1
                    break
                chars.append(char)
                p += 1
        else:
            while p < n and text[p] not in _SPACE:
                if text[p] == "\\":
                    p += 1
                    if p < n:
                        chars.append(text[p])
                        p += 1
                else:
                    chars.append(text[p])
                    p += 1
        value = "".join(chars)
        if key in SECRET_KEYS:
            register_secret(text[value_start:p])
            register_secret(value)
        if key not in valid:
            raise ConnInfoError(key_start + 1, "unknown connection parameter", _suggest(key, valid))
        if key == "port":
            for offset, port in _list_items(value):
                _check_port(port, value_start + offset)
        params[key] = value
    return params


def _decode(text: str, offset: int, part: str) -> str:
    """Percent-decode ``part`` (found at ``offset`` in ``text``) as libpq does; errors say where."""
    if "%" not in part:
        return part
    out = bytearray()
    i = 0
    while i < len(part):
        char = part[i]
        if char != "%":
            out += char.encode()
            i += 1
            continue
        pair = part[i + 1 : i + 3]
        if len(pair) < 2 or pair[0] not in _HEX or pair[1] not in _HEX:
            raise ConnInfoError(
                offset + i + 1, "'%' not followed by two hex digits", "percent-encode '%' itself as %25"
            )
        value = int(pair, 16)
        if value == 0:
            raise ConnInfoError(offset + i + 1, "'%00' (a NUL byte) is not allowed")
        out.append(value)
        i += 3
    try:
        return out.decode()
    except UnicodeDecodeError as exc:
        raise ConnInfoError(
            offset + 1,
            f"percent-escapes that are not UTF-8 (byte {exc.start + 1} of the value)",
            "percent-encode UTF-8 text",
        ) from None


def _list_items(value: str) -> list[tuple[int, str]]:
    out, offset = [], 0
    for item in value.split(","):
        out.append((offset, item))
        offset += len(item) + 1
    return out


def _check_port(port: str, offset: int) -> None:
    """A port is empty (libpq's default) or a number from 1 to 65535; libpq would only fail at connect time."""
    stripped = port.strip()
    if stripped == "":
        return
    if not stripped.isascii() or not stripped.isdigit():
        raise ConnInfoError(offset + 1, "the port is not a number", "use a port from 1 to 65535, e.g. :5432")
    if not 1 <= int(stripped) <= 65535:
        raise ConnInfoError(offset + 1, "the port is out of range", "use a port from 1 to 65535, e.g. :5432")


def _check_values(params: Mapping[str, str]) -> None:
    """Values libpq rejects only when connecting, with messages that would echo them."""
    hosts = params.get("host", "").split(",") if params.get("host") else []
    addrs = params.get("hostaddr", "").split(",") if params.get("hostaddr") else []
    ports = params.get("port", "").split(",") if params.get("port") else []
    for addr in addrs:
        if addr.strip():
            try:
                ipaddress.ip_address(addr.strip())
            except ValueError:
                raise ConnInfoError(
                    None,
                    "hostaddr holds something that is not an IP address",
                    "hostaddr takes numeric addresses (host takes names)",
                ) from None
    if hosts and addrs and len(hosts) != len(addrs):
        raise ConnInfoError(
            None, f"{len(hosts)} host(s) but {len(addrs)} hostaddr value(s)", "give one hostaddr per host"
        )
    count = max(len(hosts), len(addrs), 1)
    if len(ports) > 1 and len(ports) != count:
        raise ConnInfoError(None, f"{len(ports)} ports for {count} host(s)", "give one port, or one per host")
    timeout = params.get("connect_timeout", "").strip()
    if timeout and not re.fullmatch(r"-?\d+", timeout):
        raise ConnInfoError(None, "connect_timeout is not a number of seconds", "e.g. connect_timeout=10")


def _suggest(name: str, valid: Collection[str]) -> str:
    import difflib  # only on this error path

    close = difflib.get_close_matches(name, sorted(valid), n=1)
    if close:
        return f"did you mean {close[0]!r}? (a value holding '&' or '=' must be percent-encoded)"
    return "see libpq's connection parameters; percent-encode '&' and '=' inside values"


@cache
def libpq_keywords() -> frozenset[str]:
    """The parameter names the installed libpq accepts (``ssl`` too, for its ``ssl=true`` alias)."""
    try:
        from psycopg import pq

        found = {option.keyword.decode() for option in pq.Conninfo.get_defaults()}
    except Exception:  # no usable libpq: the list dbops was written against
        return KNOWN_KEYWORDS
    return frozenset(found | {"ssl"})


# -- the canonical URL ------------------------------------------------------------------------------------


def to_url(params: Mapping[str, str]) -> str:
    """One ``postgresql://`` URL meaning exactly ``params`` to libpq (the form dbops passes around).

    Hosts go in the netloc when they are all TCP names or addresses; socket directories, and
    lists libpq would pair differently with their ports, go in the query (which libpq reads last).

    >>> to_url({"user": "u", "password": "a/b@c", "host": "db,::1", "port": "5432,5433", "dbname": "x y"})
    'postgresql://u:a%2Fb%40c@db:5432,[::1]:5433/x%20y'
    >>> to_url({"host": "h1,h2", "port": "6432", "sslmode": "require"})
    'postgresql://h1,h2/?port=6432&sslmode=require'
    """
    rest = dict(params)
    userinfo = ""
    if rest.get("user") or rest.get("password"):
        user = rest.pop("user", None)
        password = rest.pop("password", None)
        userinfo = _q(user or "") + (":" + _q(password) if password else "") + "@"
        for key, value in (("user", user), ("password", password)):
            if value == "":  # an explicit empty value has no spelling in user:password@: keep it as a parameter
                rest[key] = ""
    netloc = ""
    host, port = rest.get("host"), rest.get("port")
    hosts = host.split(",") if host else []
    ports = port.split(",") if port is not None else []
    # libpq reads "h1,h2" in a netloc as host "h1,h2" AND port "," (explicit empty ports, no PGPORT):
    # a list of hosts goes in the netloc only with one port per host, or with a port that overrides it.
    netloc_ok = all(_netloc_host(h) for h in hosts) and all(p.isdigit() or p == "" for p in ports)
    if hosts and netloc_ok and (len(hosts) == 1 or port is not None):
        paired = len(ports) == len(hosts)
        netloc = ",".join(
            (f"[{h}]" if ":" in h else _q(h, safe="")) + (f":{ports[i]}" if paired and ports[i] else "")
            for i, h in enumerate(hosts)
        )
        rest.pop("host")
        if paired and (len(hosts) > 1 or ports[0]):
            rest.pop("port")
    dbname = rest.pop("dbname", None)
    if dbname == "":  # libpq ignores an empty path: an explicit empty dbname is a parameter
        rest["dbname"] = dbname
    path = "/" + _q(dbname) if dbname else ("/" if rest else "")
    query = "&".join(f"{_q(k)}={_q(v, safe='/,:')}" for k, v in rest.items())
    return f"postgresql://{userinfo}{netloc}{path}" + (f"?{query}" if query else "")


def _netloc_host(host: str) -> bool:
    """A host the netloc can spell: a name or IPv4 (percent-encoded), or an IPv6 address in brackets."""
    if not host or host.startswith(("/", "@")) or "%" in host:
        return False
    if ":" not in host:
        return True
    try:
        ipaddress.IPv6Address(host)
    except ValueError:
        return False
    return True


def _q(text: str, safe: str = "") -> str:
    return quote(text, safe=safe)


# -- masking ------------------------------------------------------------------------------------------------


def mask_conninfo(text: str) -> str:
    """``text`` with every password replaced by ``***``, whatever its form; never raises.

    Conservative: in a URL everything between the first ``:`` and the *last* ``@`` is the
    password; a secret query/keyword value runs until the next known parameter.
    """
    if not text:
        return text
    match = _SCHEME.match(text.lstrip())
    if match:
        lead = len(text) - len(text.lstrip())
        head = text[: lead + match.end()]
        return head + _mask_authority_and_query(text[lead + match.end() :])
    if "=" in text and re.match(r"\s*[A-Za-z_][A-Za-z0-9_]*\s*=", text):
        return _mask_keywords(text)
    if "://" in text or any(char in _SPACE for char in text.strip()):  # free text holding connection strings
        return _mask_in_text(text)
    if "@" in text or "?" in text:  # user:password@host/db without a scheme
        return _mask_authority_and_query(text)
    return text


def _mask_authority_and_query(rest: str) -> str:
    at = rest.rfind("@")
    prefix = ""
    if at != -1:
        creds, rest = rest[:at], rest[at + 1 :]
        user, colon, password = creds.partition(":")
        if colon:
            register_secret(password)
        prefix = f"{user}:{MASK}@" if colon else f"{creds}@"
    question = rest.find("?")
    if question == -1:
        return prefix + rest
    return prefix + rest[: question + 1] + _mask_query(rest[question + 1 :])


def _mask_query(query: str) -> str:
    out: list[str] = []
    masking = False
    for piece in query.split("&"):
        key, equals, value = piece.partition("=")
        name = _lenient_decode(key).strip().lower()
        if equals and name in KNOWN_KEYWORDS and name not in SECRET_KEYS:
            masking = False
            out.append(piece)
        elif equals and name in SECRET_KEYS:
            masking = True
            register_secret(value)
            register_secret(_lenient_decode(value))
            out.append(f"{key}={MASK}")
        elif masking:  # part of the secret value (an unencoded '&' in it)
            register_secret(piece)
        else:
            out.append(piece)
    return "&".join(out)


def _mask_keywords(text: str) -> str:
    out: list[str] = []
    p, n = 0, len(text)
    masking = False
    dropped = False
    while p < n:
        if text[p] in _SPACE:
            out.append(text[p])
            p += 1
            continue
        token_start = p
        while p < n and text[p] != "=" and text[p] not in _SPACE:
            p += 1
        key = text[token_start:p]
        q = p
        while q < n and text[q] in _SPACE:
            q += 1
        if q >= n or text[q] != "=":  # not key=value: a bare word (part of a secret after one)
            if masking:
                register_secret(key)
                dropped = True
            else:
                out.append(key)
            continue
        q += 1
        while q < n and text[q] in _SPACE:
            q += 1
        value_start = q
        if q < n and text[q] == "'":
            q += 1
            while q < n and text[q] != "'":
                q += 2 if text[q] == "\\" else 1
            if q >= n:  # unterminated: the rest may all be the secret
                q = n
            else:
                q += 1
        else:
            while q < n and text[q] not in _SPACE:
                q += 2 if text[q] == "\\" else 1
        q = min(q, n)
        value = text[value_start:q]
        name = key.lower()
        if name in SECRET_KEYS:
            masking = True
            register_secret(value)
            register_secret(value.strip("'"))
            out.append(f"{key}={MASK}")
        elif masking and name not in KNOWN_KEYWORDS:
            register_secret(text[token_start:q])
            dropped = True
        else:
            masking = False
            out.append(text[token_start:q])
        p = q
    masked = "".join(out)
    return re.sub(r"[ \t]{2,}", " ", masked) if dropped else masked


def _lenient_decode(text: str) -> str:
    try:
        return _decode(text, 0, text)
    except ConnInfoError:
        return text


# -- redaction of free text --------------------------------------------------------------------------------

_SECRETS: set[str] = set()
_SECRETS_LOCK = threading.Lock()
MIN_SECRET_LENGTH = 4  # shorter strings would redact ordinary words; they are masked structurally only

_URL_IN_TEXT = re.compile(r"""[A-Za-z][A-Za-z0-9+.-]*://[^\s"'<>]*""")
_SECRET_PAIR_IN_TEXT = re.compile(
    r"(?P<key>\b(?:"
    + "|".join(sorted(SECRET_KEYS))
    + r")\s*[=:]\s*)(?P<value>'(?:[^'\\]|\\.)*'?|\"[^\"]*\"?|[^\s&,;)]+)",
    re.IGNORECASE,
)


def register_secret(value: str | None) -> None:
    """Remember a secret so that ``redact`` removes it from any text printed later in this process."""
    if not value or len(value) < MIN_SECRET_LENGTH:
        return
    from urllib.parse import unquote

    with _SECRETS_LOCK:
        for form in {value, quote(value, safe=""), unquote(value), value.replace("'", "\\'")}:
            if len(form) >= MIN_SECRET_LENGTH:
                _SECRETS.add(form)


def forget_secrets() -> None:
    """Start a new invocation with no registered secret (the CLI calls it once per run)."""
    with _SECRETS_LOCK:
        _SECRETS.clear()


def redact(text: str, *, structural: bool = True) -> str:
    """Free text (an error message, a traceback) with connection strings masked and known secrets removed.

    ``structural=False`` only removes the registered secrets (for dbops' own hints, whose example
    URLs are not secrets).
    """
    if not text:
        return text
    if structural:
        text = _mask_in_text(text)
    with _SECRETS_LOCK:
        secrets = sorted(_SECRETS, key=len, reverse=True)
    for secret in secrets:
        if secret in text:
            text = text.replace(secret, MASK)
    return text


def _mask_in_text(text: str) -> str:
    """URLs and ``password=…`` pairs inside free text, masked."""
    text = _URL_IN_TEXT.sub(lambda m: mask_conninfo(m.group(0)), text)
    return _SECRET_PAIR_IN_TEXT.sub(_register_and_mask, text)


def _register_and_mask(match: re.Match[str]) -> str:
    value = match["value"]
    if value == MASK:
        return match.group(0)
    register_secret(value.strip("'\""))
    return match["key"] + MASK
