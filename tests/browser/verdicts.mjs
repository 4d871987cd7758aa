// Opens each label page in Debian's chromium at 360 x 640 (a low-end Android phone),
// checks the verdict a shopper reads, and saves a screenshot of each.
// Usage: node verdicts.mjs CASES.json SCREENSHOT_DIR
// CASES.json: [{"name": "genuine", "url": "http://...", "verdict": "Tem chính hãng", "status": 200,
//               "badge": "Hết hạn"}]  (badge: optional, a certificate badge the page must show)
import { readFileSync, mkdirSync } from "node:fs";
import { launch, PHONE } from "./launch.mjs";
import { shot } from "./shot.mjs";

const [casesFile, shotDir] = process.argv.slice(2);
const cases = JSON.parse(readFileSync(casesFile, "utf8"));
mkdirSync(shotDir, { recursive: true });

const browser = await launch();
let failures = 0;
try {
  const context = await browser.newContext({
    ...PHONE,
    userAgent: "Mozilla/5.0 (Linux; Android 10; SM-A105F) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120 Mobile Safari/537.36 Zalo android/12100",
  });
  for (const c of cases) {
    const page = await context.newPage();
    const response = await page.goto(c.url, { waitUntil: "load" });
    const status = response ? response.status() : 0;
    const verdict = (await page.locator("#verdict strong").first().innerText()).trim();
    // The verdict must be on the first screen, without scrolling.
    const box = await page.locator("#verdict").boundingBox();
    const visible = box !== null && box.y + box.height <= 640;
    const badges = await page.locator("#certifications .badge").allInnerTexts();
    const badgeOk = c.badge === undefined || badges.map((b) => b.trim()).includes(c.badge);
    await shot(page, { path: `${shotDir}/${c.name}.png` });
    const ok = verdict === c.verdict && status === c.status && visible && badgeOk;
    if (!ok) failures++;
    console.log(`${ok ? "ok  " : "FAIL"} ${c.name}: status ${status}, verdict "${verdict}"` +
      `${visible ? "" : " (below the fold)"}, badges ${JSON.stringify(badges)}`);
    await page.close();
  }
} finally {
  await browser.close();
}
console.log(`${cases.length - failures} passed, ${failures} failed`);
process.exit(failures === 0 ? 0 : 1);
