//! A shopper's phone: headless Chromium at 360 x 640 opens a genuine, a forged, a
//! not-activated, a recalled and an expired-certificate label, and reads the verdict.
//! Screenshots are kept in `target/screenshots/` as test artifacts.

use std::path::Path;
use std::process::Command;

use serde_json::json;

use crate::support::cli_env::CliEnv;

/// The path of the first label of a new batch.
fn first_label(env: &CliEnv, mint: &[&str]) -> (String, String) {
    let batch = env.ok(&[&["mint"], mint].concat()).trim().to_owned();
    let uri = env.ok(&["labels", &batch, "--range", "0..1"]);
    let uri = uri.trim();
    // Everything after scheme and host ("HTTP://LABEL.TEST" in the upper-case short form).
    let path = format!("/{}", uri.splitn(4, '/').nth(3).unwrap());
    (batch, path)
}

#[test]
fn a_shopper_sees_the_verdict_of_each_kind_of_label() {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/browser/verdicts.mjs");
    assert!(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/browser/node_modules/playwright-core")
            .exists(),
        "playwright-core is missing: `make test` installs it (npm ci in tests/browser)"
    );
    let env = CliEnv::with_base_url("http://label.test");
    env.ok(&["demo"]);
    env.ok(&["keys", "new"]);
    let (_, genuine) = first_label(
        &env,
        &["--product", "1", "--count", "2", "--lot", "CD-2026-10A"],
    );
    let (_, fresh) = first_label(&env, &["--product", "1", "--count", "2"]);
    let (_, recalled) = first_label(
        &env,
        &["--product", "2", "--count", "2", "--lot", "AR-2026-11"],
    );
    env.ok(&[
        "recall",
        "--product",
        "2",
        "--lot",
        "AR-2026-11",
        "--reason",
        "Nấm mốc vượt ngưỡng",
    ]);
    let (batch, expired_cert) = first_label(&env, &["--product", "8", "--count", "2"]);
    env.ok(&["activate", &batch, "--lot", "NL-2026-07"]);
    let forged = format!("{}ZZZ", &genuine[..genuine.len() - 3]);
    // Registry text that once blanked the page in a browser (`<!--<script` in the JSON-LD).
    let hostile = env.path("hostile.json");
    std::fs::write(
        &hostile,
        json!({
            "organizations": [
                {"key": "htx", "kind": "cooperative", "name": "HTX <!--<script>", "province": "Lâm Đồng"},
                {"key": "so", "kind": "department", "name": "X</script><script>alert(1)</script>", "province": "Lâm Đồng"}
            ],
            "products": [{"key": "p", "producer": "htx", "name": "Chè <!--<script> \"><img src=x onerror=alert(1)>",
                          "category": "Chè", "unit": "hộp", "gtin": "8934588099991"}],
            "certifications": [{"holder": "htx", "product": "p", "issuer": "so", "kind": "vietgap",
                                "number": "VG-<!--<script>", "issued_on": "2025-07-01", "valid_until": "2027-06-30"}],
            "lots": [{"product": "p", "code": "HOSTILE-1", "produced_on": "2026-10-01"}]
        })
        .to_string(),
    )
    .unwrap();
    env.ok(&["import", hostile.to_str().unwrap()]);
    let products: serde_json::Value =
        serde_json::from_str(&env.ok(&["products", "--json"])).unwrap();
    let hostile_id = products
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["gtin"] == "08934588099991")
        .unwrap()["id"]
        .to_string();
    let (_, hostile) = first_label(
        &env,
        &[
            "--product",
            &hostile_id,
            "--count",
            "1",
            "--lot",
            "HOSTILE-1",
        ],
    );

    let server = env.serve();
    let address = &server.address;
    let url = |path: &str| format!("http://{address}{path}");
    let cases = json!([
        { "name": "genuine", "url": url(&genuine), "verdict": "Tem chính hãng", "status": 200 },
        { "name": "forged", "url": url(&forged), "verdict": "Tem không hợp lệ", "status": 404 },
        { "name": "not-activated", "url": url(&fresh), "verdict": "Tem chưa được kích hoạt", "status": 200 },
        { "name": "recalled", "url": url(&recalled), "verdict": "SẢN PHẨM ĐÃ BỊ THU HỒI", "status": 200 },
        { "name": "expired-certificate", "url": url(&expired_cert), "verdict": "Tem chính hãng", "status": 200, "badge": "Hết hạn" },
        { "name": "hostile-registry-text", "url": url(&hostile), "verdict": "Tem chính hãng", "status": 200, "badge": "Chờ xác minh" },
    ]);
    let cases_file = env.path("cases.json");
    std::fs::write(&cases_file, cases.to_string()).unwrap();
    let shots = Path::new(env!("CARGO_TARGET_TMPDIR")).join("../screenshots");
    // Screenshots of an earlier run must not pass for this run's.
    let _ = std::fs::remove_dir_all(&shots);
    let out = Command::new("node")
        .arg(&script)
        .arg(&cases_file)
        .arg(&shots)
        .output()
        .expect("node is needed for the browser test");
    let report = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{report}\n{}\nserver log:\n{}",
        String::from_utf8_lossy(&out.stderr),
        String::from_utf8_lossy(&env.log())
    );
    assert!(report.contains("6 passed, 0 failed"), "{report}");
    for name in [
        "genuine",
        "forged",
        "not-activated",
        "recalled",
        "expired-certificate",
        "hostile-registry-text",
    ] {
        assert!(
            shots.join(format!("{name}.png")).exists(),
            "screenshot of {name}"
        );
    }
    drop(server);
}
