// An inspector's day, in Debian's chromium: signs in, finds "gao nang thom", rejects one of
// its certificates with a reason; a shopper's phone then shows it rejected, with the
// inspector's name. The inspector recalls the lot of a label with GS1's fields; the
// shopper's next scan shows the banner, and the shopper reports a problem. The inspector
// reads the recall's audit entry with its inclusion proof verified, and handles the report.
// Usage: node inspector.mjs CASE.json RESULT.json SCREENSHOT_DIR
// CASE.json: {"base", "inspector": {"login", "password"}, "label": "/…", "lot": "CODE",
//             "reason": "...", "recall_reason": "...", "report": "...", "note": "..."}
// RESULT.json gets each step's status, URL and the text it showed.
import { readFileSync, writeFileSync, mkdirSync } from "node:fs";
import { launch } from "./launch.mjs";
import { shot } from "./shot.mjs";

const [caseFile, resultFile, shotDir] = process.argv.slice(2);
const c = JSON.parse(readFileSync(caseFile, "utf8"));
mkdirSync(shotDir, { recursive: true });
const result = { steps: {} };

const browser = await launch();

async function step(name, page, response, selector = "main") {
  result.steps[name] = {
    status: response ? response.status() : 0,
    path: new URL(page.url()).pathname,
    text: (await page.locator(selector).first().innerText()).trim(),
  };
  await shot(page, { path: `${shotDir}/inspector-${name}.png`, fullPage: true });
}

async function submit(page, selector) {
  const [response] = await Promise.all([page.waitForNavigation(), page.click(selector)]);
  return response;
}

try {
  const office = await browser.newContext({ locale: "vi-VN", viewport: { width: 1280, height: 900 } });
  const ip = await office.newPage();
  await ip.goto(`${c.base}/login`);
  await ip.fill("input[name=login]", c.inspector.login);
  await ip.fill("input[name=password]", c.inspector.password);
  await step("signed_in", ip, await submit(ip, "button[type=submit]"));

  // Finds "gao nang thom" from the workspace's box, without diacritics.
  await ip.goto(`${c.base}/inspect`);
  await ip.fill("#search input[name=q]", "gao nang thom");
  await step("found", ip, await submit(ip, "#search button[type=submit]"));

  // Opens the product's certificate awaiting review and rejects it with a reason.
  await submit(ip, "#found-certificates tbody tr:has-text('Chờ thẩm định') td a");
  await ip.fill("#decision textarea[name=reason]", c.reason);
  await step("rejected", ip, await submit(ip, "#reject"), "#certificate");

  // A shopper's phone scans a label of the product.
  const phone = await browser.newContext({ locale: "vi-VN", viewport: { width: 360, height: 640 } });
  const pp = await phone.newPage();
  await step("shopper_sees_rejection", pp, await pp.goto(`${c.base}${c.label}`), "#certifications");

  // The inspector finds the lot and recalls it with GS1's fields.
  await ip.goto(`${c.base}/inspect/search?q=${encodeURIComponent(c.lot)}&kind=lots`);
  await submit(ip, "#found-lots tbody tr:first-child td a");
  await ip.selectOption("#recall select[name=reason_code]", "MICROBIAL_CONTAMINATION");
  await ip.fill("#recall input[name=reason]", c.recall_reason);
  await ip.selectOption("#recall select[name=risk_class]", "1");
  await ip.fill("#recall input[name=contact]", "Chi cục QLCL Nông lâm thủy sản Tây Ninh, 0276 3822 000");
  await step("recalled", ip, await submit(ip, "#recall-submit"));

  // The shopper's very next scan shows the banner; the shopper reports a problem.
  await step("shopper_sees_recall", pp, await pp.reload(), "#verdict");
  await pp.fill("textarea[name=message]", c.report);
  await step("reported", pp, await submit(pp, "form[action] button[type=submit]"));

  // The recall's audit entry, its proof checked against a signed checkpoint (the server
  // makes one every second here: the page is read again until one covers the entry).
  await ip.click("section.recall a[href^='/inspect/history/recall/']");
  for (let i = 0; i < 30; i++) {
    const proof = await ip.locator("#history td.proof").first().innerText();
    if (proof.includes("✓")) break;
    await ip.waitForTimeout(500);
    await ip.reload();
  }
  await step("recall_history", ip, null, "#history");

  // The report in the inbox: taken, then handled with a note.
  await ip.goto(`${c.base}/inspect/reports`);
  const report = ip.locator("form.handle").first();
  await Promise.all([ip.waitForNavigation(), report.locator("button[value=take]").click()]);
  await ip.locator("form.handle").first().locator("textarea[name=note]").fill(c.note);
  const handled = await Promise.all([
    ip.waitForNavigation(),
    ip.locator("form.handle").first().locator("button[value=handled]").click(),
  ]);
  await step("handled", ip, handled[0]);
} catch (e) {
  result.error = String(e.stack || e);
} finally {
  writeFileSync(resultFile, JSON.stringify(result));
  await browser.close();
}
