// Screenshots kept as artifacts. Under the test suite's load Chromium has once answered
// "Unable to capture screenshot" for a page already loaded; such a capture is tried again
// once after a moment (a second failure still fails the test).
export async function shot(page, options) {
  try {
    await page.screenshot(options);
  } catch (e) {
    if (!String(e).includes("Unable to capture screenshot")) throw e;
    await page.waitForTimeout(500);
    await page.screenshot(options);
  }
}
