// The Chromium every browser test drives: Debian's, headless, with nothing talking to the
// network but the pages under test.
import { chromium } from "playwright-core";

export function launch() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
           "--disable-quic", "--no-first-run", "--disable-component-update", "--disable-sync"],
  });
}

// A shopper's or a cooperative's phone: 360 x 640, Vietnamese first.
export const PHONE = { viewport: { width: 360, height: 640 }, deviceScaleFactor: 2, isMobile: true, locale: "vi-VN" };
