//! Real browsers. A shopper's phone: headless Chromium at 360 x 640 opens a genuine, a
//! forged, a not-activated, a recalled and an expired-certificate label, and reads the
//! verdict. A cooperative: its owner invites an editor, who joins and works in the console.
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
    let shots = Path::new(env!("CARGO_TARGET_TMPDIR")).join("../screenshots/verdicts");
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
    assert_screenshots(
        &shots,
        "",
        &[
            "genuine",
            "forged",
            "not-activated",
            "recalled",
            "expired-certificate",
            "hostile-registry-text",
        ],
    );
    drop(server);
}

/// Loads the demo with its people; returns their password (printed once, on standard error).
fn demo_with_password(env: &CliEnv) -> String {
    let demo = env.run(&["demo"]);
    assert!(demo.status.success());
    let printed = String::from_utf8_lossy(&demo.stderr).into_owned();
    printed
        .split("the password ")
        .nth(1)
        .and_then(|rest| rest.split_whitespace().next())
        .expect("the demo password")
        .to_owned()
}

/// The path of a new label of the demo's product `name`, for its lot `lot` (with a label key
/// made for it).
fn demo_lot_label(env: &CliEnv, name: &str, lot: &str) -> String {
    env.ok(&["keys", "new"]);
    let products: serde_json::Value =
        serde_json::from_str(&env.ok(&["products", "--json"])).unwrap();
    let product = products
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == name)
        .unwrap_or_else(|| panic!("the demo's {name}"))["id"]
        .to_string();
    let mint = ["--product", &product, "--count", "1", "--lot", lot];
    first_label(env, &mint).1
}

/// What a browser script wrote to `file`, once it says it met no error (else its stderr).
fn script_result(file: &Path, out: &std::process::Output) -> serde_json::Value {
    let written =
        std::fs::read(file).unwrap_or_else(|_| panic!("{}", String::from_utf8_lossy(&out.stderr)));
    let result: serde_json::Value = serde_json::from_slice(&written).unwrap();
    assert!(result["error"].is_null(), "{}", result["error"]);
    result
}

/// That the browser script kept a screenshot `<prefix><name>.png` of each step named.
fn assert_screenshots(shots: &Path, prefix: &str, names: &[&str]) {
    for name in names {
        let file = shots.join(format!("{prefix}{name}.png"));
        assert!(file.exists(), "screenshot of {name}");
    }
}

/// Whether `needle` occurs in `haystack`.
fn contains(haystack: &[u8], needle: &str) -> bool {
    haystack
        .windows(needle.len())
        .any(|w| w == needle.as_bytes())
}

#[test]
fn an_owner_invites_an_editor_who_works_on_their_cooperative_only() {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/browser/people.mjs");
    let env = CliEnv::with_base_url("http://truyxuat.test");
    let owner_password = demo_with_password(&env);
    let products: serde_json::Value =
        serde_json::from_str(&env.ok(&["products", "--json"])).unwrap();
    let products = products.as_array().unwrap();
    let xuan_tho = "HTX Nông nghiệp Dịch vụ Xuân Thọ";
    let own = products.iter().find(|p| p["producer"] == xuan_tho).unwrap()["id"].clone();
    let other = products.iter().find(|p| p["producer"] != xuan_tho).unwrap()["id"].clone();
    // An API token of the owner's, to be used against the server below.
    let token = env
        .ok(&[
            "tokens",
            "create",
            "--login",
            "chunhiem@demo.truyxuat.vn",
            "--org",
            "1",
        ])
        .trim()
        .to_owned();
    assert!(token.starts_with("txa_"), "{token}");

    let server_log_from = env.log().len();
    let server = env.serve();
    let base = format!("http://{}", server.address);
    let editor_password = "Đà Lạt mùa hoa 2026";
    let new_name = "Chè Ô Long Cầu Đất thượng hạng";
    let case = json!({
        "base": base,
        "owner": {"login": "chunhiem@demo.truyxuat.vn", "password": owner_password},
        "editor": {"login": "0912 345 678", "password": editor_password, "name": "Lê Thị Biên"},
        "own_product": own, "other_product": other, "new_name": new_name,
    });
    let case_file = env.path("people.json");
    let result_file = env.path("people-result.json");
    std::fs::write(&case_file, case.to_string()).unwrap();
    let shots = Path::new(env!("CARGO_TARGET_TMPDIR")).join("../screenshots/people");
    let _ = std::fs::remove_dir_all(&shots);
    let out = Command::new("node")
        .arg(&script)
        .args([&case_file, &result_file, &shots])
        .output()
        .expect("node is needed for the browser test");
    // The token works, and then every secret is searched for below.
    let api = {
        use std::io::{Read, Write};
        let mut stream = std::net::TcpStream::connect(&server.address).unwrap();
        write!(
            stream,
            "GET /api/v1/products HTTP/1.0\r\nHost: {}\r\nAuthorization: Bearer {token}\r\n\r\n",
            server.address
        )
        .unwrap();
        let mut response = String::new();
        stream.read_to_string(&mut response).unwrap();
        response
    };
    server.stop();
    assert!(
        api.starts_with("HTTP/1.1 200") || api.starts_with("HTTP/1.0 200"),
        "{api}"
    );
    let result = script_result(&result_file, &out);
    let step = |name: &str| {
        (
            result["steps"][name]["status"].as_u64().unwrap(),
            result["steps"][name]["path"].as_str().unwrap().to_owned(),
        )
    };
    let text = |name: &str| result["steps"][name]["text"].as_str().unwrap().to_owned();

    assert_eq!(step("owner_signed_in"), (200, "/console".into()));
    let link = text("invited");
    assert!(link.starts_with("http://truyxuat.test/link/"), "{link}");
    assert_eq!(step("link_opened").0, 200);
    assert!(
        text("link_opened").contains("vai trò Biên tập"),
        "{}",
        text("link_opened")
    );
    assert_eq!(step("accepted"), (200, "/console".into()));
    assert!(
        text("accepted").contains("Lê Thị Biên"),
        "{}",
        text("accepted")
    );
    assert_eq!(step("editor_signed_in"), (200, "/console".into()));
    assert_eq!(step("own_product").0, 200);
    assert_eq!(step("edited"), (200, "/console".into()));
    assert!(text("edited").contains(new_name), "{}", text("edited"));
    assert_eq!(step("other_product").0, 403);
    assert!(
        text("other_product").contains("quyền"),
        "{}",
        text("other_product")
    );
    assert_eq!(step("signed_out").0, 200);
    assert_eq!(step("replayed"), (303, "/login".into()));
    // What the browser did is in the records: the product's new name, read back.
    let listed = env.ok(&["products"]);
    assert!(listed.contains(new_name), "{listed}");

    // No password, session id, link or token in clear: not in the database files, the
    // server's debug log, or any page (but the one that shows the link to its maker).
    let secret = link.rsplit('/').next().unwrap().to_owned();
    let mut secrets = vec![owner_password, editor_password.to_owned(), secret, token];
    let cookies = result["cookies"].as_array().unwrap();
    assert!(cookies.len() >= 3, "{cookies:?}");
    secrets.extend(cookies.iter().map(|c| c.as_str().unwrap().to_owned()));
    let log = env.log()[server_log_from..].to_vec();
    let pages: Vec<String> = result["pages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p.as_str().unwrap().to_owned())
        .collect();
    assert!(
        result["invite_page"]
            .as_str()
            .unwrap()
            .contains(&link[..30])
    );
    for file in std::fs::read_dir(env.dir.path()).unwrap() {
        let path = file.unwrap().path();
        if !path.to_string_lossy().contains("truyxuat.db") {
            continue;
        }
        let bytes = std::fs::read(&path).unwrap();
        for s in &secrets {
            assert!(!contains(&bytes, s), "a secret in {}", path.display());
        }
    }
    for s in &secrets {
        assert!(
            !contains(&log, s),
            "a secret in the server's log: {}",
            String::from_utf8_lossy(&log)
                .lines()
                .filter(|l| l.contains(s.as_str()))
                .collect::<Vec<_>>()
                .join("\n")
        );
        for page in &pages {
            assert!(!page.contains(s.as_str()), "a secret in a page");
        }
    }
}

/// Runs zbarimg on page 1 of a PDF rasterised at 300 dpi: the URIs of its codes.
fn first_page_codes(pdf: &Path) -> Vec<String> {
    let folder = tempfile::tempdir().unwrap();
    let prefix = folder.path().join("page");
    let status = Command::new("pdftoppm")
        .args(["-r", "300", "-gray", "-png", "-f", "1", "-l", "1"])
        .arg(pdf)
        .arg(&prefix)
        .status()
        .unwrap();
    assert!(status.success());
    let page = std::fs::read_dir(folder.path())
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    let out = Command::new("zbarimg")
        .args(["-q", "--raw", "-Sdisable", "-Sqrcode.enable"])
        .arg(&page)
        .output()
        .unwrap();
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(str::to_owned)
        .collect()
}

#[test]
fn a_cooperative_imports_its_products_and_prints_labels_in_the_browser() {
    use truyxuat::sheets::{self, Kind};
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/browser/workspace.mjs");
    let env = CliEnv::with_base_url("http://truyxuat.test");
    let password = demo_with_password(&env);
    env.ok(&["keys", "new"]);
    let products: serde_json::Value =
        serde_json::from_str(&env.ok(&["products", "--json"])).unwrap();
    // A product of the printer's cooperative with a GTIN and a lot: its labels carry the lot
    // and are activated as they are minted, so that they verify.
    let (product, lot) = products
        .as_array()
        .unwrap()
        .iter()
        .find(|p| {
            p["producer"] == "HTX Nông nghiệp Dịch vụ Xuân Thọ"
                && !p["gtin"].is_null()
                && p["lots"].as_array().is_some_and(|l| !l.is_empty())
        })
        .map(|p| (p["id"].clone(), p["lots"][0].clone()))
        .unwrap();

    // 50 products, two of them broken (no name; no unit), and the two as fixed in Excel.
    let row = |name: &str, unit: &str| -> Vec<String> {
        ["", name, "Đồ uống", unit, "", "", ""]
            .map(str::to_owned)
            .to_vec()
    };
    let rows: Vec<Vec<String>> = (0..50)
        .map(|i| match i {
            10 => row("", "gói"),
            40 => row(&format!("Trà thảo mộc số {i}"), ""),
            _ => row(&format!("Trà thảo mộc số {i}"), "gói"),
        })
        .collect();
    let fixed = vec![
        row("Trà thảo mộc số 10", "gói"),
        row("Trà thảo mộc số 40", "gói"),
    ];
    let products_xlsx = env.path("products.xlsx");
    let fixed_xlsx = env.path("fixed.xlsx");
    std::fs::write(
        &products_xlsx,
        sheets::workbook(&[(Kind::Products, rows)], None, &[]).unwrap(),
    )
    .unwrap();
    std::fs::write(
        &fixed_xlsx,
        sheets::workbook(&[(Kind::Products, fixed)], None, &[]).unwrap(),
    )
    .unwrap();

    let photo = env.path("IMG_0001.JPG");
    std::fs::write(&photo, crate::photos::phone_photo()).unwrap();
    let evidence_bytes = b"%PDF-1.4\n1 0 obj << >> endobj\ntrailer << >>\n%%EOF\n";
    let evidence = env.path("giay-chung-nhan.pdf");
    std::fs::write(&evidence, evidence_bytes).unwrap();

    let server = env.serve();
    let case = json!({
        "photo": photo, "evidence": evidence,
        "base": format!("http://{}", server.address),
        "editor": {"login": "bientap@demo.truyxuat.vn", "password": password},
        "printer": {"login": "inte@demo.truyxuat.vn", "password": password},
        "product": product, "lot": lot,
        "products_xlsx": products_xlsx, "fixed_xlsx": fixed_xlsx,
    });
    let case_file = env.path("workspace.json");
    let result_file = env.path("workspace-result.json");
    std::fs::write(&case_file, case.to_string()).unwrap();
    // Downloads and screenshots are kept as artifacts.
    let out = Path::new(env!("CARGO_TARGET_TMPDIR")).join("../screenshots/workspace");
    let _ = std::fs::remove_dir_all(&out);
    let run = Command::new("node")
        .arg(&script)
        .args([&case_file, &result_file, &out])
        .output()
        .expect("node is needed for the browser test");
    let result: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(&result_file)
            .unwrap_or_else(|_| panic!("no result: {}", String::from_utf8_lossy(&run.stderr))),
    )
    .unwrap();
    assert!(result.get("error").is_none(), "{}", result["error"]);
    let steps = &result["steps"];

    // The phone's photo, upright and small in the console, sized and lazy on the public page.
    let photo_sha = hex::encode(<sha2::Sha256 as sha2::Digest>::digest(
        std::fs::read(&photo).unwrap(),
    ));
    assert_eq!(
        steps["photo"]["src"],
        format!("/photos/{photo_sha}/360.jpg"),
        "{}",
        steps["photo"]
    );
    assert_eq!(steps["photo"]["natural"], json!([360, 270]));
    let public = &steps["public_photo"];
    assert!(
        public["current"].as_str().unwrap().contains(&photo_sha),
        "{public}"
    );
    assert_eq!(public["width"], "360");
    assert_eq!(public["height"], "270");
    assert_eq!(public["loading"], "lazy");
    // The certificate, submitted with its evidence, shows the evidence's SHA-256.
    let evidence_sha = hex::encode(<sha2::Sha256 as sha2::Digest>::digest(evidence_bytes));
    let certificate = steps["certificate"].as_str().unwrap();
    assert!(certificate.contains(&evidence_sha), "{certificate}");

    // The template, and the check's two errors with their rows and columns.
    assert_eq!(steps["template"], "truyxuat-mau-nhap.xlsx");
    let errors: Vec<String> = steps["checked"]["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e.as_str().unwrap().to_owned())
        .collect();
    assert_eq!(errors.len(), 2, "{errors:?}");
    assert!(
        errors[0].contains("14") && errors[0].contains("B (Tên sản phẩm)"),
        "{errors:?}"
    );
    assert!(
        errors[1].contains("44") && errors[1].contains("D (Đơn vị tính)"),
        "{errors:?}"
    );
    let error_file = sheets::read_xlsx(&std::fs::read(out.join("errors.xlsx")).unwrap()).unwrap();
    assert_eq!(error_file.products.len(), 2);
    assert!(
        steps["valid_rows"].as_str().unwrap().contains("48"),
        "{}",
        steps["valid_rows"]
    );
    assert!(
        steps["fixed"].as_str().unwrap().contains('2'),
        "{}",
        steps["fixed"]
    );
    let listed = env.ok(&["products", "--search", "Trà thảo mộc"]);
    assert_eq!(
        listed
            .lines()
            .filter(|l| l.contains("Trà thảo mộc số"))
            .count(),
        50
    );

    // 10,000 labels; page 1 of the A4 PDF decodes to 40 URIs, each a genuine label.
    assert_eq!(steps["batch"]["count"], "10000");
    let uris = first_page_codes(&out.join("labels.pdf"));
    assert_eq!(uris.len(), 40, "{uris:?}");
    for uri in &uris {
        // `truyxuat verify` succeeds for a genuine label only.
        env.ok(&["verify", uri]);
    }
    // No page scrolls sideways, on a phone or at a desk.
    assert_eq!(result["overflow"], json!([]), "pages wider than the screen");
    server.stop();
}

/// An inspector's day in a real browser (tests/browser/inspector.mjs): finds "gao nang
/// thom", rejects a certificate (the shopper's page then says so, with the inspector's
/// name), recalls a lot (the next scan shows the banner), reads the recall's audit entry
/// with its proof verified, handles a shopper's report. Screenshots in
/// `target/screenshots/inspector/`.
#[test]
fn an_inspector_rejects_recalls_reads_the_proof_and_handles_a_report() {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/browser/inspector.mjs");
    let env = CliEnv::with_base_url("http://truyxuat.test");
    let password = demo_with_password(&env);
    let lot = "NT-HT2026";
    let label = demo_lot_label(&env, "Gạo Nàng Thơm Chợ Đào", lot);

    // A checkpoint every second, so that the recall's entry is proved within the test.
    let server = env.serve_with(&[("TRUYXUAT_AUDIT_CHECKPOINT_SECS", "1")]);
    let base = format!("http://{}", server.address);
    let case = json!({
        "base": base,
        "inspector": {"login": "thanhtra.tayninh@demo.truyxuat.vn", "password": password},
        "label": label,
        "lot": lot,
        "reason": "Số quyết định không có trong sổ cấp của Sở",
        "recall_reason": "Mẫu kiểm nghiệm vượt ngưỡng Salmonella",
        "report": "Bao gạo bị rách, có mùi lạ <script>alert(1)</script>",
        "note": "Đã liên hệ cửa hàng, thu hồi bao gạo",
    });
    let case_file = env.path("inspector.json");
    let result_file = env.path("inspector-result.json");
    std::fs::write(&case_file, case.to_string()).unwrap();
    let shots = Path::new(env!("CARGO_TARGET_TMPDIR")).join("../screenshots/inspector");
    let _ = std::fs::remove_dir_all(&shots);
    let out = Command::new("node")
        .arg(&script)
        .args([&case_file, &result_file, &shots])
        .output()
        .expect("node is needed for the browser test");
    server.stop();
    let result = script_result(&result_file, &out);
    let status = |name: &str| result["steps"][name]["status"].as_u64().unwrap();
    let text = |name: &str| result["steps"][name]["text"].as_str().unwrap().to_owned();

    assert_eq!(status("signed_in"), 200);
    assert!(
        text("found").contains("Gạo Nàng Thơm Chợ Đào"),
        "{}",
        text("found")
    );
    assert!(
        text("rejected").contains("Bị từ chối"),
        "{}",
        text("rejected")
    );
    let decision = text("shopper_sees_rejection");
    assert!(
        decision.contains("Bị từ chối bởi Thanh tra Sở NN&MT Tây Ninh")
            && decision.contains("Số quyết định không có trong sổ cấp của Sở"),
        "{decision}"
    );
    assert!(
        text("recalled").contains("Đang bị thu hồi"),
        "{}",
        text("recalled")
    );
    let banner = text("shopper_sees_recall");
    assert!(banner.contains("SẢN PHẨM ĐÃ BỊ THU HỒI"), "{banner}");
    assert!(
        banner.contains("Mẫu kiểm nghiệm vượt ngưỡng Salmonella"),
        "{banner}"
    );
    let history = text("recall_history");
    assert!(history.contains("lot.recall"), "{history}");
    assert!(
        history.contains("✓"),
        "the recall's entry proved: {history}"
    );
    let inbox = text("handled");
    assert!(
        inbox.contains("Bao gạo bị rách, có mùi lạ <script>alert(1)</script>"),
        "the report, escaped and shown as typed: {inbox}"
    );
    assert!(
        inbox.contains("Đã liên hệ cửa hàng, thu hồi bao gạo"),
        "{inbox}"
    );
    assert!(inbox.contains("Đã xử lý"), "{inbox}");
    assert_screenshots(
        &shots,
        "inspector-",
        &[
            "found",
            "rejected",
            "shopper_sees_recall",
            "recall_history",
            "handled",
        ],
    );
    // And in the records: the audit log verifies, the recall's entry among its entries.
    let verified = env.run(&["audit", "verify"]);
    assert!(
        verified.status.success(),
        "{}",
        String::from_utf8_lossy(&verified.stderr)
    );
}

#[test]
fn a_shopper_reads_the_journey_of_dried_longan_on_a_phone() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let env = CliEnv::with_base_url("http://label.test");
    env.ok(&["demo"]);
    let label = demo_lot_label(&env, "Long nhãn sấy khô", "LN-2026-08");
    let server = env.serve();
    let shots = Path::new(env!("CARGO_TARGET_TMPDIR")).join("../screenshots/journey");
    let _ = std::fs::remove_dir_all(&shots);
    let result_file = env.path("journey.json");
    let out = Command::new("node")
        .arg(root.join("tests/browser/journey.mjs"))
        .arg(format!("http://{}{label}", server.address))
        .arg(&shots)
        .arg(&result_file)
        .output()
        .expect("node is needed for the browser test");
    let result = script_result(&result_file, &out);
    assert_eq!(result["status"], 200);
    assert_eq!(result["heading"], "Hành trình sản phẩm");
    let steps: Vec<&str> = result["steps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s.as_str().unwrap())
        .collect();
    assert_eq!(steps.len(), 6, "{steps:?}");
    let kinds = [
        "Thu hoạch, sản xuất 25/07/2026",
        "Thu hoạch, sản xuất 27/07/2026",
        "Chế biến 02/08/2026",
        "Đóng gói 05/08/2026",
        "Xuất hàng 06/08/2026",
        "Nhận hàng 07/08/2026",
    ];
    for (step, kind) in steps.iter().zip(kinds) {
        assert!(step.starts_with(kind), "{step} (expected {kind})");
    }
    assert!(
        steps[5].ends_with("Cửa hàng đặc sản Phố Hiến, Hoàn Kiếm, Hà Nội"),
        "{}",
        steps[5]
    );
    assert_eq!(result["scripts"], 0, "the page runs no script");
    assert!(
        result["scrollWidth"].as_i64().unwrap() <= 360,
        "{}",
        result["scrollWidth"]
    );
    assert_screenshots(&shots, "", &["first-screen", "journey"]);
    drop(server);
}

/// The lot diary on a phone: the demo cooperative's editor records that a lot of tea was
/// shipped, in a real browser at 360 × 640, and a shopper scanning a label of the lot reads
/// the new step. Screenshots in `target/screenshots/diary/`.
#[test]
fn a_cooperative_records_a_shipment_on_a_phone_and_the_shopper_reads_it() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let env = CliEnv::with_base_url("http://label.test");
    let password = demo_with_password(&env);
    let label = demo_lot_label(&env, "Chè Ô Long Cầu Đất", "CD-2026-10A");
    let server = env.serve();
    let base = format!("http://{}", server.address);
    let case = env.path("diary-case.json");
    let login = truyxuat::demo::PEOPLE[1].0;
    std::fs::write(
        &case,
        serde_json::json!({
            "base": base, "login": login, "password": password,
            "lot_code": "CD-2026-10A", "label": format!("{base}{label}"),
        })
        .to_string(),
    )
    .unwrap();
    let shots = Path::new(env!("CARGO_TARGET_TMPDIR")).join("../screenshots/diary");
    let _ = std::fs::remove_dir_all(&shots);
    let result_file = env.path("diary.json");
    let started = chrono::Utc::now();
    let out = Command::new("node")
        .arg(root.join("tests/browser/diary.mjs"))
        .arg(&case)
        .arg(&shots)
        .arg(&result_file)
        .output()
        .expect("node is needed for the browser test");
    let result = script_result(&result_file, &out);
    assert_eq!(result["title"], "Nhật ký lô hàng");
    assert!(result["formWidth"].as_i64().unwrap() <= 360, "{result}");
    assert!(result["diaryWidth"].as_i64().unwrap() <= 360, "{result}");
    // Today in Vietnam, as the form fills it in (read before and after, for a run that
    // crosses midnight there).
    let vietnam = chrono::FixedOffset::east_opt(7 * 3600).unwrap();
    let today =
        |t: chrono::DateTime<chrono::Utc>| t.with_timezone(&vietnam).format("%Y-%m-%d").to_string();
    let prefilled = result["prefilledDate"].as_str().unwrap();
    assert!(
        prefilled == today(started) || prefilled == today(chrono::Utc::now()),
        "{prefilled}"
    );
    assert_eq!(result["recordedStatus"], 200);
    let first = result["firstLine"].as_str().unwrap();
    assert!(
        first.starts_with("Xuất hàng")
            && first.contains("CD-2026-10A")
            && first.contains("1.200 cái")
            && first.contains("Cửa hàng OCOP Đà Lạt, Lâm Đồng"),
        "{first}"
    );
    let steps: Vec<&str> = result["steps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s.as_str().unwrap())
        .collect();
    assert_eq!(steps.len(), 3, "{steps:?}");
    assert!(
        steps[0].starts_with("Thu hoạch, sản xuất 08/10/2026"),
        "{steps:?}"
    );
    assert!(
        steps[2].starts_with("Xuất hàng") && steps[2].contains("Cửa hàng OCOP Đà Lạt"),
        "{steps:?}"
    );
    assert_screenshots(&shots, "", &["form", "recorded", "journey"]);
    drop(server);
}
