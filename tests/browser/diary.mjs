// A cooperative's editor on a phone (Chromium at 360 x 640) signs in, opens the lot diary,
// records that a lot of tea was shipped (the day and time as the form fills them in), and
// sees it recorded; then a shopper's phone opens a label of that lot and reads the new step.
// Screenshots: the form, the diary after recording, the shopper's journey.
// Usage: node diary.mjs CASE.json SCREENSHOT_DIR RESULT.json
// CASE.json: {"base", "login", "password", "lot_code", "label"}
import { readFileSync, writeFileSync, mkdirSync } from "node:fs";
import { launch, PHONE } from "./launch.mjs";
import { shot } from "./shot.mjs";

const [caseFile, shotDir, resultFile] = process.argv.slice(2);
const c = JSON.parse(readFileSync(caseFile, "utf8"));
mkdirSync(shotDir, { recursive: true });
const result = { error: null };
const browser = await launch();
try {
  const page = await (await browser.newContext(PHONE)).newPage();
  await page.goto(`${c.base}/login`);
  await page.fill("input[name=login]", c.login);
  await page.fill("input[name=password]", c.password);
  await Promise.all([page.waitForNavigation(), page.click("button[type=submit]")]);
  await Promise.all([page.waitForNavigation(), page.click("#events-link")]);
  result.title = (await page.locator("h1").innerText()).trim();
  result.formWidth = await page.evaluate(() => document.documentElement.scrollWidth);
  result.prefilledDate = await page.inputValue("#new-event input[name=date]");
  await shot(page, { path: `${shotDir}/form.png`, fullPage: true });
  await page.check("#new-event input[name=step][value=shipped]");
  const lot = page.locator("#new-event select[name=lot_id] option", { hasText: c.lot_code });
  await page.selectOption("#new-event select[name=lot_id]", await lot.first().getAttribute("value"));
  await page.fill("#new-event input[name=quantity]", "1.200");
  await page.selectOption("#new-event select[name=unit]", "H87");
  await page.fill("#new-event input[name=place]", "Cửa hàng OCOP Đà Lạt");
  await page.selectOption("#new-event select[name=province]", "Lâm Đồng");
  const response = await Promise.all([page.waitForNavigation(), page.click("#new-event button[type=submit]")]);
  result.recordedStatus = response[0].status();
  result.recorded = (await page.locator("#recorded").innerText()).trim();
  result.firstLine = (await page.locator("#diary li").first().innerText()).replace(/\s+/g, " ").trim();
  result.diaryWidth = await page.evaluate(() => document.documentElement.scrollWidth);
  await shot(page, { path: `${shotDir}/recorded.png` });

  const shopper = await (await browser.newContext(PHONE)).newPage();
  await shopper.goto(c.label);
  result.steps = (await shopper.locator("#journey li").allInnerTexts()).map((s) => s.replace(/\s+/g, " ").trim());
  await shopper.locator("#journey").scrollIntoViewIfNeeded();
  await shot(shopper, { path: `${shotDir}/journey.png` });
} catch (e) {
  result.error = String(e);
} finally {
  await browser.close();
}
writeFileSync(resultFile, JSON.stringify(result));
