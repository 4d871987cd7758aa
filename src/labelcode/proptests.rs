//! Property tests: every minted label verifies; every tampered one is refused.
//!
//! The number of cases comes from `TRUYXUAT_PROPTEST_CASES` (default 1000), so that a soak
//! run can ask for a million.

use std::sync::OnceLock;

use chrono::{TimeZone as _, Utc};
use proptest::prelude::*;

use super::*;
use crate::domain::batch::Profile;
use crate::domain::gtin::{Gtin, check_digit};

fn cases() -> u32 {
    let n = std::env::var("TRUYXUAT_PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1000);
    eprintln!("labels proptest: {n} cases");
    n
}

/// A keyring with a retired key (slot 0), a revoked key (slot 1) and the active key (slot 2).
fn ring() -> &'static Keyring {
    static RING: OnceLock<Keyring> = OnceLock::new();
    RING.get_or_init(|| {
        let t = |d| Utc.with_ymd_and_hms(2025, 7, d, 0, 0, 0).unwrap();
        let mut ring = Keyring::single(KeySeed::from_bytes([11; 32]), t(1));
        ring.rotate(KeySeed::from_bytes([22; 32]), t(2)).unwrap();
        let revoked = ring.keys()[1].kid().to_owned();
        ring.rotate(KeySeed::from_bytes([33; 32]), t(3)).unwrap();
        ring.revoke(&revoked, t(4)).unwrap();
        ring
    })
}

fn base() -> LabelBase {
    LabelBase::parse("https://truyxuat.example.vn").unwrap()
}

/// A label's inputs: key index (0 retired, 2 active), number, GTIN, lot, profile.
#[derive(Debug, Clone)]
struct Spec {
    key: usize,
    number: u32,
    gtin: Option<Gtin>,
    lot: Option<String>,
    profile: Profile,
}

fn gtin_strategy() -> impl Strategy<Value = Gtin> {
    proptest::collection::vec(0u8..10, 13).prop_map(|mut d| {
        d.push(check_digit(&d));
        Gtin::parse(&d.iter().map(|x| char::from(b'0' + x)).collect::<String>()).unwrap()
    })
}

fn spec_strategy() -> impl Strategy<Value = Spec> {
    (
        prop_oneof![Just(0usize), Just(2usize)],
        0u32..(1 << 31),
        proptest::option::of((
            gtin_strategy(),
            proptest::option::of("[A-Za-z0-9/.-]{1,20}"),
        )),
        prop_oneof![Just(Profile::Compact), Just(Profile::Offline)],
    )
        .prop_map(|(key, number, product, profile)| Spec {
            key,
            number,
            gtin: product.as_ref().map(|(g, _)| *g),
            lot: product.and_then(|(_, l)| l),
            profile,
        })
}

/// Mints the URI of `spec` (a retired key is made active in a copy, to mint old labels).
fn mint(spec: &Spec) -> String {
    let key = ring().keys()[spec.key]
        .clone()
        .with_state(KeyStatus::Active, None, None);
    let mut minter = Minter::new(
        &key,
        base(),
        spec.gtin.as_ref(),
        spec.lot.as_deref(),
        spec.profile,
    )
    .unwrap();
    let mut uri = String::new();
    minter.write_uri(spec.number, &mut uri).unwrap();
    uri
}

fn serial_of(uri: &str) -> Serial {
    LabelUri::parse(uri).unwrap().serial
}

const ALPHA: &[u8; 32] = serial::ALPHABET;

proptest! {
    #![proptest_config(ProptestConfig::with_cases(cases()))]

    #[test]
    fn every_minted_label_verifies(spec in spec_strategy()) {
        let uri = mint(&spec);
        let label = verify(&uri, ring()).unwrap();
        prop_assert_eq!(label.label_number, spec.number);
        prop_assert_eq!(label.kid.as_str(), ring().keys()[spec.key].kid());
        prop_assert_eq!(label.profile, spec.profile);
        prop_assert_eq!(label.gtin, spec.gtin);
        prop_assert_eq!(label.lot, spec.lot.clone());
        if spec.profile == Profile::Offline {
            let offline = verify_offline(&uri, &ring().public_keys()).unwrap();
            prop_assert_eq!(offline.serial, label.serial);
        } else {
            prop_assert_eq!(verify_offline(&uri, &ring().public_keys()), Err(Rejection::Unsigned));
        }
        // The short form's serial can be typed in lower case.
        if spec.gtin.is_none() {
            prop_assert!(verify(&uri.to_lowercase(), ring()).is_ok() || spec.profile == Profile::Offline);
        }
    }

    #[test]
    fn any_single_character_change_of_the_serial_is_refused(
        spec in spec_strategy(),
        position in 0usize..serial::SERIAL_LEN,
        shift in 1usize..32,
    ) {
        let uri = mint(&spec);
        let serial = serial_of(&uri);
        let mut changed = serial.as_str().as_bytes().to_vec();
        let old = ALPHA.iter().position(|&c| c == changed[position]).unwrap();
        changed[position] = ALPHA[(old + shift) % 32];
        let changed = String::from_utf8(changed).unwrap();
        let tampered = uri.replacen(serial.as_str(), &changed, 1);
        let verdict = verify(&tampered, ring());
        prop_assert!(
            matches!(
                verdict,
                Err(Rejection::NotGenuine(_)) | Err(Rejection::UnknownKey { .. })
            ),
            "{} -> {:?}", tampered, verdict
        );
        if spec.profile == Profile::Offline {
            prop_assert!(verify_offline(&tampered, &ring().public_keys()).is_err());
        }
    }

    #[test]
    fn truncated_or_extended_serials_are_malformed(spec in spec_strategy(), cut in 1usize..20, extra in "[0-9A-Z]{1,3}") {
        let uri = mint(&spec);
        let serial = serial_of(&uri);
        let short = uri.replacen(serial.as_str(), &serial.as_str()[..20 - cut], 1);
        let long = uri.replacen(serial.as_str(), &format!("{serial}{extra}"), 1);
        prop_assert!(matches!(verify(&short, ring()), Err(Rejection::Malformed(_))));
        prop_assert!(matches!(verify(&long, ring()), Err(Rejection::Malformed(_))));
    }

    #[test]
    fn offline_signatures_do_not_move(a in spec_strategy(), b in spec_strategy()) {
        let a = Spec { profile: Profile::Offline, key: 2, ..a };
        let b = Spec { profile: Profile::Offline, key: 2, ..b };
        prop_assume!(a.number != b.number || a.gtin != b.gtin || a.lot != b.lot);
        let (uri_a, uri_b) = (mint(&a), mint(&b));
        let parsed_a = LabelUri::parse(&uri_a).unwrap();
        let sig_b = LabelUri::parse(&uri_b).unwrap().signature.unwrap();
        // A's parts with B's signature.
        let moved = label_uri(
            &base(),
            parsed_a.gtin.as_ref(),
            parsed_a.lot.as_deref(),
            &parsed_a.serial,
            Some(&sig_b),
        )
        .unwrap();
        prop_assert_eq!(verify(&moved, ring()), Err(Rejection::NotGenuine(NotGenuine::Signature)));
        prop_assert_eq!(
            verify_offline(&moved, &ring().public_keys()),
            Err(Rejection::NotGenuine(NotGenuine::Signature))
        );
        // A's signature on B's product and lot.
        if a.gtin != b.gtin || a.lot != b.lot {
            let sig_a = parsed_a.signature.unwrap();
            let moved = label_uri(&base(), b.gtin.as_ref(), b.lot.as_deref(), &parsed_a.serial, Some(&sig_a)).unwrap();
            prop_assert!(verify(&moved, ring()).is_err());
            prop_assert!(verify_offline(&moved, &ring().public_keys()).is_err());
        }
    }

    #[test]
    fn labels_of_a_revoked_key_say_so(number in 0u32..(1 << 31)) {
        let revoked = &ring().keys()[1];
        let serial = serial_for(revoked, number).unwrap();
        let uri = label_uri(&base(), None, None, &serial, None).unwrap();
        prop_assert_eq!(
            verify(&uri, ring()),
            Err(Rejection::RevokedKey { kid: revoked.kid().to_owned() })
        );
    }
}

proptest! {
    #[test]
    fn random_input_is_refused_without_panicking(s in "\\PC{0,120}", code in "[0-9A-TV-Z]{19}") {
        prop_assert!(verify(&s, ring()).is_err());
        let _ = verify_offline(&s, &ring().public_keys());
        // A random serial in the active key's slot is not genuine (2^-64 chance otherwise).
        let guess = format!("https://truyxuat.example.vn/T/2{code}");
        prop_assert_eq!(verify(&guess, ring()), Err(Rejection::NotGenuine(NotGenuine::Code)));
    }
}

#[test]
fn a_serial_of_an_unused_slot_names_the_slot() {
    let uri = "https://truyxuat.example.vn/T/Z0000000000000000000";
    assert_eq!(verify(uri, ring()), Err(Rejection::UnknownKey { slot: 31 }));
}

#[test]
fn retired_keys_do_not_mint() {
    let retired = &ring().keys()[0];
    assert!(matches!(
        Minter::new(retired, base(), None, None, Profile::Compact),
        Err(MintError::KeyNotActive { .. })
    ));
}
