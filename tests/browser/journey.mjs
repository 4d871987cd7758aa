// A shopper's phone (Chromium at 360 x 640) opens a label of the demo's dried longan and
// reads the lot's journey: each step's text, whether the page ran any script, and whether
// the timeline fits the screen's width. Screenshots: the first screen and the journey.
// Usage: node journey.mjs URL SCREENSHOT_DIR RESULT.json
import { writeFileSync, mkdirSync } from "node:fs";
import { launch, PHONE } from "./launch.mjs";
import { shot } from "./shot.mjs";

const [url, shotDir, resultFile] = process.argv.slice(2);
mkdirSync(shotDir, { recursive: true });
const result = { error: null };
const browser = await launch();
try {
  const context = await browser.newContext(PHONE);
  const page = await context.newPage();
  const response = await page.goto(url, { waitUntil: "load" });
  result.status = response ? response.status() : 0;
  result.heading = (await page.locator("#journey h2").innerText()).trim();
  result.steps = (await page.locator("#journey li").allInnerTexts()).map((s) => s.replace(/\s+/g, " ").trim());
  result.scripts = await page.locator("script:not([type='application/ld+json'])").count();
  // Nothing wider than the phone: no sideways scrolling to read a step.
  result.scrollWidth = await page.evaluate(() => document.documentElement.scrollWidth);
  await shot(page, { path: `${shotDir}/first-screen.png` });
  await page.locator("#journey").scrollIntoViewIfNeeded();
  await shot(page, { path: `${shotDir}/journey.png` });
} catch (e) {
  result.error = String(e);
} finally {
  await browser.close();
}
writeFileSync(resultFile, JSON.stringify(result));
