//! Test vectors of `docs/labels.md`, and an independent check of offline signatures with
//! `ring` (not ed25519-dalek), reading only the URI and the keys.json text.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{TimeZone as _, Utc};

use super::*;
use crate::domain::batch::Profile;
use crate::domain::gtin::Gtin;

fn vector_key() -> Keyring {
    let seed: [u8; 32] = std::array::from_fn(|i| i as u8);
    Keyring::single(
        KeySeed::from_bytes(seed),
        Utc.with_ymd_and_hms(2025, 7, 1, 0, 0, 0).unwrap(),
    )
}

fn offline_uri(ring: &Keyring) -> String {
    let key = ring.active().unwrap();
    let gtin = Gtin::parse("08934588012112").unwrap();
    let base = LabelBase::parse("https://truyxuat.example.vn").unwrap();
    let mut minter = Minter::new(key, base, Some(&gtin), Some("LOT1"), Profile::Offline).unwrap();
    let mut uri = String::new();
    minter.write_uri(1, &mut uri).unwrap();
    uri
}

const KID: &str = "d610cfc527651261";
const PUBLIC_KEY: &str = "25usKK4tcIW27QVSJnC2LdSFEVMBPMNJzEEGlz1P-Ks";
const SERIAL_0: &str = "0F9QGPN36EE7DAMVR5C5";
const SERIAL_1: &str = "0DG2B1BGYGXA9Q9D85Y8";
const OFFLINE_URI: &str = "https://truyxuat.example.vn/01/08934588012112/10/LOT1/21/0DG2B1BGYGXA9Q9D85Y8?8030=ybXeOSZTCIUkBKAv-eCf42NgnBJ-nn7g35PMpCBHckQ4dL5z4bRV4gQ8fg3Y8XzHVX53GUv4t8hR413Hu-pjCQ";

#[test]
fn documented_vectors_hold() {
    let ring = vector_key();
    let key = ring.active().unwrap();
    assert_eq!(key.kid(), KID);
    assert_eq!(
        URL_SAFE_NO_PAD.encode(key.verifying_key().to_bytes()),
        PUBLIC_KEY
    );
    assert_eq!(serial_for(key, 0).unwrap().as_str(), SERIAL_0);
    assert_eq!(serial_for(key, 1).unwrap().as_str(), SERIAL_1);
    assert_eq!(offline_uri(&ring), OFFLINE_URI);
    let label = verify(OFFLINE_URI, &ring).unwrap();
    assert_eq!((label.label_number, label.profile), (1, Profile::Offline));
    let short = format!("HTTPS://TRUYXUAT.EXAMPLE.VN/T/{SERIAL_0}");
    assert_eq!(verify(&short, &ring).unwrap().label_number, 0);
    assert!(format!("{key:?}").contains(KID));
    assert!(!format!("{key:?} {:?}", KeySeed::from_bytes([0xAB; 32])).contains("abab"));
}

/// Checks the offline signature of `uri` the way an outside verifier would: split the URI
/// by hand, find the key in the keys.json text, build the signed bytes from the
/// documentation, and verify with `ring`.
fn ring_verifies(uri: &str, keys_json: &str) -> bool {
    let (path, query) = uri.split_once('?').unwrap();
    let sig_b64 = query.strip_prefix("8030=").unwrap();
    let segs: Vec<&str> = path.split('/').collect();
    let (gtin, lot, serial) = (segs[4], segs[6], segs[8]);
    let slot = serial::decode_char(serial.as_bytes()[0]).unwrap();
    let doc: serde_json::Value = serde_json::from_str(keys_json).unwrap();
    let entry = doc["keys"]
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["slot"] == slot)
        .unwrap();
    let kid = entry["kid"].as_str().unwrap();
    let public = URL_SAFE_NO_PAD
        .decode(entry["public_key"].as_str().unwrap())
        .unwrap();
    let message = format!("truyxuat/offline/v1\n{kid}\n{gtin}\n{lot}\n{serial}");
    let sig = URL_SAFE_NO_PAD.decode(sig_b64).unwrap();
    ring::signature::UnparsedPublicKey::new(&ring::signature::ED25519, &public)
        .verify(message.as_bytes(), &sig)
        .is_ok()
}

#[test]
fn ring_independently_verifies_offline_signatures() {
    let keyring = vector_key();
    let json = keyring.public_keys_json().unwrap();
    assert!(ring_verifies(OFFLINE_URI, &json));
    let moved = OFFLINE_URI.replace("/10/LOT1/", "/10/LOT2/");
    assert!(!ring_verifies(&moved, &json));

    // Fresh labels of a rotated keyring, numbers spread over the range.
    let mut keyring = keyring;
    keyring
        .rotate(
            KeySeed::from_bytes([99; 32]),
            Utc.with_ymd_and_hms(2025, 8, 1, 0, 0, 0).unwrap(),
        )
        .unwrap();
    let json = keyring.public_keys_json().unwrap();
    let key = keyring.active().unwrap();
    let gtin = Gtin::parse("8934588012112").unwrap();
    let base = LabelBase::parse("https://truyxuat.example.vn").unwrap();
    let mut minter = Minter::new(key, base, Some(&gtin), Some("L-7"), Profile::Offline).unwrap();
    let mut checked = 0;
    minter
        .for_each_uri(0, 50, |_, _, uri| -> Result<(), MintError> {
            assert!(ring_verifies(uri, &json), "{uri}");
            checked += 1;
            Ok(())
        })
        .unwrap();
    assert_eq!(checked, 50);
}

/// Each reading rule of `docs/labels.md` section 1, on the documented offline vector.
#[test]
fn reading_rules_hold_as_documented() {
    let ring = vector_key();
    let mut keys = ring.public_keys();
    keys.base_urls = vec!["https://truyxuat.example.vn".into()];
    let reads = |uri: &str| verify(uri, &ring).is_ok() && verify_offline(uri, &keys).is_ok();
    let malformed = |uri: &str| matches!(verify(uri, &ring), Err(Rejection::Malformed(_)));
    let (path, sig) = OFFLINE_URI.split_once("?8030=").unwrap();
    assert!(reads(OFFLINE_URI));
    // Scheme: all lower or all upper case; host: any case.
    assert!(reads(&OFFLINE_URI.replace("https://", "HTTPS://")));
    assert!(reads(
        &OFFLINE_URI.replace("truyxuat.example.vn", "TruyXuat.Example.VN")
    ));
    assert!(malformed(&OFFLINE_URI.replace("https://", "Https://")));
    // A GTIN of 13 digits is the same GTIN-14, and the same label.
    let gtin13 = OFFLINE_URI.replace("/01/08934588012112/", "/01/8934588012112/");
    assert!(reads(&gtin13));
    assert!(malformed(
        &OFFLINE_URI.replace("/01/08934588012112/", "/01/0893458801211/")
    ));
    // AI 22 nowhere; path AIs not in the query; each AI once.
    assert!(malformed(&format!("{OFFLINE_URI}&22=ABC")));
    assert!(malformed(
        &OFFLINE_URI.replace("/10/LOT1/", "/22/ABC/10/LOT1/")
    ));
    assert!(malformed(&format!("{OFFLINE_URI}&10=LOT1")));
    assert!(malformed(&format!("{OFFLINE_URI}&17=261231&17=261231")));
    assert!(malformed(&format!("{OFFLINE_URI}&17=261331")));
    // Other parameters, a trailing slash and a fragment are ignored.
    assert!(reads(&format!(
        "{OFFLINE_URI}&17=261231&linkType=gs1:pip&utm_source=zalo"
    )));
    assert!(reads(&format!("{path}/?8030={sig}#x")));
    // The signature: canonical base64url only (the last character's 4 spare bits are zero).
    let last = sig.chars().last().unwrap();
    assert!(matches!(last, 'A' | 'Q' | 'g' | 'w'), "{last}");
    let spare_bits_set = format!("{path}?8030={}{}", &sig[..85], (last as u8 + 1) as char);
    assert!(URL_SAFE_NO_PAD.decode(sig).is_ok());
    assert!(malformed(&spare_bits_set));
    assert!(malformed(&format!("{path}?8030={sig}==")));
    // No proof covers the host: a copy elsewhere verifies, and says that it points elsewhere.
    let copied = OFFLINE_URI.replace("truyxuat.example.vn", "shop.example");
    assert!(verify(&copied, &ring).is_ok());
    assert!(verify_offline(&copied, &keys).unwrap().points_elsewhere);
    assert!(!verify_offline(OFFLINE_URI, &keys).unwrap().points_elsewhere);
    assert_eq!(points_at(&copied, &keys.base_urls), Some(false));
}
