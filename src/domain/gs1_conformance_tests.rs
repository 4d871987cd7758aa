//! Conformance tests: example URIs published with the GS1 Digital Link standard and its
//! reference implementations, limited to what truyxuat implements (AI 01 primary key,
//! qualifiers 22/10/21, query attributes). Each example names where it comes from:
//!
//! - `[SE]` = repository gs1/gs1-syntax-engine, file `src/c-lib/dl.c`, `test_dl_parseDLuri`
//!   (the GS1 Barcode Syntax Engine's unit tests);
//! - `[SE-spec]` = the same function, block "Examples from DL specification", which
//!   reproduces the examples of the GS1 Digital Link URI Syntax standard (1.2 to 1.4);
//! - `[DLJS]` = repository gs1/digital-link.js, file `tests/index.js`.
//!
//! Where truyxuat deliberately differs from the Syntax Engine the test says so.

use super::*;

fn ok(uri: &str) -> DigitalLink {
    match DigitalLink::parse(uri) {
        Ok(link) => link,
        Err(e) => panic!("{uri} should parse, got: {e}"),
    }
}

fn err(uri: &str) -> DigitalLinkError {
    match DigitalLink::parse(uri) {
        Ok(link) => panic!("{uri} should be refused, got {link:?}"),
        Err(e) => e,
    }
}

fn unsupported(uri: &str, expected_ai: &str) {
    match err(uri) {
        DigitalLinkError::UnsupportedPrimaryKey { ai, .. } => assert_eq!(ai, expected_ai, "{uri}"),
        other => panic!("{uri}: expected unsupported primary key, got {other}"),
    }
}

#[test]
fn spec_examples_with_a_gtin() {
    // [SE-spec]
    let l = ok("https://id.gs1.org/01/09520123456788");
    assert_eq!(l.gtin.as_gtin14(), "09520123456788");
    assert_eq!(l.stem, "https://id.gs1.org");
    // [SE-spec] zero-suppressed GTIN-13, padded (SE: with permitZeroSuppressedGTINinDLuris)
    assert_eq!(
        ok("https://brand.example.com/01/9520123456788")
            .gtin
            .as_gtin14(),
        "09520123456788"
    );
    // [SE-spec] custom path prefix before the primary key
    let l = ok("https://brand.example.com/some-extra/pathinfo/01/9520123456788");
    assert_eq!(l.stem, "https://brand.example.com/some-extra/pathinfo");
    // [SE-spec]
    assert_eq!(
        ok("https://id.gs1.org/01/09520123456788/22/2A")
            .cpv
            .as_deref(),
        Some("2A")
    );
    // [SE-spec]
    assert_eq!(
        ok("https://id.gs1.org/01/09520123456788/10/ABC123")
            .lot
            .as_deref(),
        Some("ABC123")
    );
    // [SE-spec]
    assert_eq!(
        ok("https://id.gs1.org/01/09520123456788/21/12345")
            .serial
            .as_deref(),
        Some("12345")
    );
    // [SE-spec]
    let l = ok("https://id.gs1.org/01/09520123456788/10/ABC1/21/12345?17=180426");
    assert_eq!(
        (l.lot.as_deref(), l.serial.as_deref(), l.expiry.as_deref()),
        (Some("ABC1"), Some("12345"), Some("180426"))
    );
    // [SE-spec]
    let l = ok("https://id.gs1.org/01/09520123456788?3103=000195");
    assert_eq!(l.attribute("3103"), Some("000195"));
    // [SE-spec] (both with and without zero suppression, on two hosts, two orders)
    for uri in [
        "https://example.com/01/9520123456788?3103=000195&3922=0299&17=201225",
        "https://example.com/01/09520123456788?3103=000195&3922=0299&17=201225",
        "https://id.gs1.org/01/9520123456788?3103=000195&3922=0299&17=201225",
        "https://id.gs1.org/01/09520123456788?17=201225&3103=000195&3922=0299",
    ] {
        let l = ok(uri);
        assert_eq!(l.expiry.as_deref(), Some("201225"), "{uri}");
        assert_eq!(l.attribute("3103"), Some("000195"), "{uri}");
        assert_eq!(l.attribute("3922"), Some("0299"), "{uri}");
    }
}

#[test]
fn spec_examples_with_other_primary_keys_are_refused_clearly() {
    // [SE-spec]
    unsupported("https://id.gs1.org/00/952012345678912345", "00");
    unsupported(
        "https://id.gs1.org/00/952012345678912345?02=09520123456788&37=25&10=ABC123",
        "00",
    );
    unsupported("https://id.gs1.org/414/9520123456788", "414");
    unsupported("https://id.gs1.org/414/9520123456788/254/32a%2Fb", "414");
    unsupported(
        "https://example.com/8004/9520614141234567?01=9520123456788",
        "8004",
    );
    // [SE]
    unsupported("http://a/00/006141411234567890", "00");
    unsupported("HTTPS://a/00/006141411234567890", "00");
    unsupported("https://a/stem/00/006141411234567890", "00");
    unsupported("https://a/00/faux/00/006141411234567890", "00");
    unsupported("https://a/253/1231231231232", "253");
    unsupported("https://a/8018/123456789012345675/8019/123", "8018");
    unsupported("https://a/stem/401/12345678?99=ABC", "401");
}

#[test]
fn syntax_engine_valid_gtin_examples() {
    // [SE]
    let l = ok("https://a/01/12312312312333/22/TEST/10/ABC/21/XYZ");
    assert_eq!(
        (l.cpv.as_deref(), l.lot.as_deref(), l.serial.as_deref()),
        (Some("TEST"), Some("ABC"), Some("XYZ"))
    );
    // [SE] hosts: punycode, FQDN with dot, port, IPv4, IPv6
    for uri in [
        "https://a/01/12312312312333",
        "https://xn--fsq.xn--0zwm56d/01/12312312312333",
        "https://a./01/12312312312333",
        "https://a:65535/01/12312312312333",
        "https://192.0.2.1/01/12312312312333",
        "https://[2001:db8::1]/01/12312312312333",
    ] {
        assert_eq!(ok(uri).gtin.as_gtin14(), "12312312312333", "{uri}");
    }
    // [SE] GTIN-13, -12, -8 padded to GTIN-14
    assert_eq!(
        ok("https://a/01/2112345678900").gtin.as_gtin14(),
        "02112345678900"
    );
    assert_eq!(
        ok("https://a/01/416000336108").gtin.as_gtin14(),
        "00416000336108"
    );
    assert_eq!(
        ok("https://a/01/02345673").gtin.as_gtin14(),
        "00000002345673"
    );
    // [SE] query attributes; extraneous separators, unknown and singleton parameters
    for uri in [
        "https://a/01/12312312312333?99=ABC&98=XYZ",
        "https://a/01/12312312312333?&&&99=ABC&&&&&&98=XYZ&&&",
        "https://a/01/12312312312333?99=ABC&unknown=666&98=XYZ",
        "https://a/01/12312312312333?unknown1=555&99=ABC&unknown2=666&98=XYZ&unknown3=777",
        "https://a/01/12312312312333?singleton1&99=ABC&singleton2&98=XYZ&singleton3",
    ] {
        let l = ok(uri);
        assert_eq!(l.attribute("99"), Some("ABC"), "{uri}");
        assert_eq!(l.attribute("98"), Some("XYZ"), "{uri}");
    }
    let l = ok("https://a/01/12312312312333?unknown=666&singleton");
    assert_eq!(
        l.other_params,
        vec![
            ("unknown".to_owned(), "666".to_owned()),
            ("singleton".to_owned(), String::new())
        ]
    );
    // [SE] percent-escaped values; "+" is literal in the path
    let l = ok("https://a/01/12312312312333/22/ABC%2d123?99=ABC&98=XYZ%2f987");
    assert_eq!(l.cpv.as_deref(), Some("ABC-123"));
    assert_eq!(l.attribute("98"), Some("XYZ/987"));
    assert_eq!(
        ok("https://a/01/12312312312333/22/ABC+123?99=ABC")
            .cpv
            .as_deref(),
        Some("ABC+123")
    );
    // [SE] fragments are ignored; lower-case qualifier values kept
    let l = ok("https://a/01/12312312312333/22/test/10/abc/21/xyz#fragment");
    assert_eq!(l.serial.as_deref(), Some("xyz"));
    ok("https://a/01/12312312312333/22/test/10/abc/21/xyz#");
    // [SE] empty query string
    ok("https://a/01/12312312312333?");
}

#[test]
fn syntax_engine_invalid_examples() {
    // [SE] not a URI, wrong scheme, no host, no path
    assert_eq!(err(""), DigitalLinkError::Scheme);
    assert_eq!(err("ftp://"), DigitalLinkError::Scheme);
    assert_eq!(err("http://"), DigitalLinkError::MissingHost);
    assert_eq!(err("http:///"), DigitalLinkError::MissingHost);
    assert_eq!(err("http://a"), DigitalLinkError::NoPrimaryKey);
    assert_eq!(err("http://a/"), DigitalLinkError::NoPrimaryKey);
    assert_eq!(err("http://a/b"), DigitalLinkError::NoPrimaryKey);
    assert_eq!(err("http://a/b/"), DigitalLinkError::NoPrimaryKey);
    // [SE] mixed-case scheme
    assert!(matches!(
        err("HtTp://a/b/01/12312312312333"),
        DigitalLinkError::MixedCaseScheme(_)
    ));
    // [SE] no domain: "00" is read as the host, leaving no primary key
    assert_eq!(
        err("https://00/006141411234567890"),
        DigitalLinkError::NoPrimaryKey
    );
    // [SE] bad characters in the host
    assert_eq!(
        err("https://$a/006141411234567890"),
        DigitalLinkError::BadHostCharacter('$')
    );
    assert_eq!(
        err("https://a$/006141411234567890"),
        DigitalLinkError::BadHostCharacter('$')
    );
    assert_eq!(
        err("https://[fe80::1%25lo]/01/12312312312333"),
        DigitalLinkError::BadHostCharacter('%')
    );
    // [SE] empty AI value in a query parameter
    assert!(matches!(
        err("https://a/01/12312312312333?99="),
        DigitalLinkError::EmptyValue { .. }
    ));
    // [SE] numeric parameter that is not an AI
    assert_eq!(
        err("https://a/01/12312312312333?99=ABC&999=faux"),
        DigitalLinkError::UnknownAi("999".to_owned())
    );
    // [SE] "+" means a space in the query, and a space is outside cset 82
    assert!(matches!(
        err("https://a/01/12312312312333/22/ABC%2d123?99=ABC&98=XYZ+987"),
        DigitalLinkError::BadCharacter { ch: ' ', .. }
    ));
    // [SE-spec] AI in the query that belongs in the path
    assert_eq!(
        err("https://example.com/01/09520123456788?10=ABC123"),
        DigitalLinkError::PathAiInQuery("10".to_owned())
    );
    // [SE-spec] duplicate AIs
    assert_eq!(
        err("https://id.gs1.org/01/09520123456788/10/ABC123?99=XYZ789&01=09520123456788"),
        DigitalLinkError::PathAiInQuery("01".to_owned())
    );
    assert_eq!(
        err("https://id.gs1.org/01/09520123456788/10/ABC123?99=XYZ789&10=ABC123"),
        DigitalLinkError::PathAiInQuery("10".to_owned())
    );
    assert_eq!(
        err("https://id.gs1.org/01/09520123456788/10/ABC123?99=XYZ789&99=XYZ789"),
        DigitalLinkError::Duplicate("99".to_owned())
    );
    // [SE-spec] unknown AI 89 in the path and in the query
    assert_eq!(
        err("https://example.com/01/09520123456788/89/ABC123?99=XYZ"),
        DigitalLinkError::UnknownAi("89".to_owned())
    );
    assert_eq!(
        err("https://example.com/01/09520123456788?99=XYZ&89=ABC123"),
        DigitalLinkError::UnknownAi("89".to_owned())
    );
    // [SE] the alternative qualifier 235 (TPX) is valid GS1 but not read by truyxuat
    assert_eq!(
        err("https://a/01/12312312312333/235/TEST"),
        DigitalLinkError::UnsupportedQualifier("235".to_owned())
    );
    // [SE] percent-encoded NUL
    assert!(matches!(
        err("https://a/01/12312312312333/10/A%00B"),
        DigitalLinkError::BadPercentEncoding { .. }
    ));
}

#[test]
fn deliberate_differences_from_the_syntax_engine() {
    // [SE] refuses a trailing slash ("Can't end in slash"); truyxuat accepts it.
    ok("https://a/01/12312312312333/");
}

#[test]
fn digital_link_js_examples() {
    // [DLJS] DATA.url
    let l = ok(
        "https://gs1.evrythng.com/01/9780345418913/10/38737643/21/58943?15=230911&thngId=U5mQKGDpnymBwQwRakyBqeYh",
    );
    assert_eq!(l.gtin.as_gtin14(), "09780345418913");
    assert_eq!(l.lot.as_deref(), Some("38737643"));
    assert_eq!(l.serial.as_deref(), Some("58943"));
    assert_eq!(l.attribute("15"), Some("230911"));
    assert_eq!(
        l.other_params,
        vec![("thngId".to_owned(), "U5mQKGDpnymBwQwRakyBqeYh".to_owned())]
    );
    // [DLJS] "should create from string" variants
    ok("https://gs1.evrythng.com/01/9780345418913");
    ok("https://gs1.evrythng.com/01/9780345418913/10/38737643");
    ok("https://gs1.evrythng.com/01/9780345418913/10/38737643/21/58943");
    ok("https://gs1.evrythng.com/01/9780345418913/10/38737643?15=230911");
    // [DLJS] invalid: partial GTIN, trailing letter, missing protocol, domain only
    assert!(matches!(
        err("https://gs1.evrythng.com/01/123"),
        DigitalLinkError::GtinFormat(_)
    ));
    assert!(matches!(
        err("https://gs1.evrythng.com/01/9780345418913d"),
        DigitalLinkError::GtinFormat(_)
    ));
    assert_eq!(err("badurl"), DigitalLinkError::Scheme);
    assert_eq!(
        err("https://gs1.evrythng.com"),
        DigitalLinkError::NoPrimaryKey
    );
}
