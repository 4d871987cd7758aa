//! Unit and property tests of GS1 Digital Link parsing and generation.

use proptest::prelude::*;

use super::*;

fn gtin(s: &str) -> Gtin {
    Gtin::parse(s).unwrap()
}

#[test]
fn parses_a_full_label_uri() {
    let link = DigitalLink::parse(
        "https://truyxuat.example.vn/01/08934588012112/10/LOT-2025.07/21/ABC123?17=261231&8030=sig_-x&linkType=gs1:pip",
    )
    .unwrap();
    assert_eq!(link.stem, "https://truyxuat.example.vn");
    assert_eq!(link.gtin, gtin("8934588012112"));
    assert_eq!(link.lot.as_deref(), Some("LOT-2025.07"));
    assert_eq!(link.serial.as_deref(), Some("ABC123"));
    assert_eq!(link.expiry.as_deref(), Some("261231"));
    assert_eq!(link.attribute("8030"), Some("sig_-x"));
    assert_eq!(
        link.other_params,
        vec![("linkType".to_owned(), "gs1:pip".to_owned())]
    );
}

#[test]
fn accepts_upper_case_scheme_and_host_prefix_and_trailing_slash() {
    let link =
        DigitalLink::parse("HTTPS://EXAMPLE.COM/some/prefix/01/08934588012112/21/X1/").unwrap();
    assert_eq!(link.stem, "HTTPS://EXAMPLE.COM/some/prefix");
    assert_eq!(link.serial.as_deref(), Some("X1"));
}

#[test]
fn pads_short_gtins() {
    let link = DigitalLink::parse("https://a/01/8934588012112").unwrap();
    assert_eq!(link.gtin.as_gtin14(), "08934588012112");
}

#[test]
fn explains_what_is_wrong() {
    let err = |uri: &str| DigitalLink::parse(uri).unwrap_err().to_string();
    assert_eq!(
        err("https://a/01/08934588012113"),
        "GTIN check digit should be 2, not 3"
    );
    assert_eq!(
        err("https://a/01/08934588012112/10/L%E1%BA%A1"),
        "AI 10 (lot) has a character outside the GS1 character set: 'ạ'"
    );
    assert_eq!(
        err("https://a/01/08934588012112/10/Lạ"),
        "AI 10 (lot) has a character outside the GS1 character set: 'ạ'"
    );
    assert_eq!(
        err("https://a/01/08934588012112/21/S/10/L"),
        "AI 21 must come after AI 10"
    );
    assert_eq!(
        err("https://a/01/08934588012112/10/L/10/M"),
        "AI 10 appears more than once"
    );
    assert_eq!(
        err("https://a/01/08934588012112/21/123456789012345678901"),
        "AI 21 (serial) is at most 20 characters, not 21"
    );
    assert_eq!(
        err("https://a/01/08934588012112?17=261301"),
        "AI 17 (expiry) must be a date written YYMMDD, not '261301'"
    );
    assert_eq!(
        err("https://a/00/006141411234567890"),
        "unsupported primary key: AI 00 (SSCC); truyxuat reads only AI 01 (GTIN)"
    );
    assert_eq!(
        err("ftp://a/01/08934588012112"),
        "a GS1 Digital Link starts with https:// or http://"
    );
}

#[test]
fn percent_encodes_what_must_be_encoded() {
    let mut link = DigitalLink::new("https://a", gtin("08934588012112"));
    link.lot = Some("A/B C%".to_owned());
    link.serial = Some("x+y?z".to_owned());
    assert_eq!(
        link.to_uri(),
        "https://a/01/08934588012112/10/A%2FB%20C%25/21/x%2By%3Fz"
    );
    // A space is outside cset 82, so that lot does not come back; the serial does.
    link.lot = Some("A/B%".to_owned());
    assert_eq!(DigitalLink::parse(&link.to_uri()).unwrap(), link);
}

#[test]
fn percent_decoding_keeps_stray_percent_and_refuses_nul() {
    assert_eq!(percent_decode("ABC%2", false).as_deref(), Some("ABC%2"));
    assert_eq!(percent_decode("A%4gB", false).as_deref(), Some("A%4gB"));
    assert_eq!(percent_decode("A+B", false).as_deref(), Some("A+B"));
    assert_eq!(percent_decode("A+B", true).as_deref(), Some("A B"));
    assert_eq!(percent_decode("A%00B", false), None);
    assert_eq!(percent_decode("%FF", false), None);
}

#[test]
fn cset82_has_82_characters() {
    assert_eq!(
        (0u8..=127).filter(|c| is_cset82(char::from(*c))).count(),
        82
    );
}

fn cset82_string(max: usize) -> impl Strategy<Value = String> {
    let chars: Vec<char> = (0u8..=127)
        .map(char::from)
        .filter(|c| is_cset82(*c))
        .collect();
    proptest::collection::vec(proptest::sample::select(chars), 1..=max)
        .prop_map(|v| v.into_iter().collect())
}

fn gtin_strategy() -> impl Strategy<Value = Gtin> {
    proptest::collection::vec(0u8..10, 13).prop_map(|mut d| {
        d.push(crate::domain::gtin::check_digit(&d));
        let s: String = d.iter().map(|x| char::from(b'0' + x)).collect();
        Gtin::parse(&s).unwrap()
    })
}

fn link_strategy() -> impl Strategy<Value = DigitalLink> {
    let stem = prop_oneof![
        Just("https://example.com".to_owned()),
        Just("HTTPS://TRUYXUAT.EXAMPLE.VN".to_owned()),
        Just("http://a:8080/some/prefix".to_owned()),
    ];
    let yymmdd = (0u8..100, 1u8..13, 0u8..32).prop_map(|(y, m, d)| format!("{y:02}{m:02}{d:02}"));
    (
        stem,
        gtin_strategy(),
        proptest::option::of(cset82_string(20)),
        proptest::option::of(cset82_string(20)),
        proptest::option::of(cset82_string(20)),
        proptest::option::of(yymmdd),
        proptest::option::of(cset82_string(90)),
        proptest::option::of("[a-zA-Z][a-zA-Z0-9 /&=?]{0,10}"),
    )
        .prop_map(|(stem, gtin, cpv, lot, serial, expiry, sig, other)| {
            let mut link = DigitalLink::new(stem, gtin);
            link.cpv = cpv;
            link.lot = lot;
            link.serial = serial;
            link.expiry = expiry;
            if let Some(sig) = sig {
                link.attributes.push(("8030".to_owned(), sig));
                link.attributes
                    .push(("3103".to_owned(), "000195".to_owned()));
            }
            if let Some(other) = other {
                link.other_params.push(("linkType".to_owned(), other));
            }
            link
        })
}

proptest! {
    #[test]
    fn generate_then_parse_is_identity(link in link_strategy()) {
        let uri = link.to_uri();
        prop_assert_eq!(DigitalLink::parse(&uri).unwrap(), link);
    }

    #[test]
    fn parse_never_panics(s in "\\PC{0,80}") {
        let _ = DigitalLink::parse(&s);
        let _ = DigitalLink::parse(&format!("https://a/01/{s}"));
    }
}
