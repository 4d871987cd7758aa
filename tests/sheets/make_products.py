"""Writes a products workbook the way another program would (openpyxl, not truyxuat's own
writer): a header row and data rows, no description or example rows, some names typed in
decomposed Unicode (NFD), GTINs as numbers, and every 33rd row broken in one known cell.

usage: make_products.py OUT.xlsx ROWS  -> prints the broken cells as JSON lines
{"row": N, "column": "B"} (Excel's row numbers and column letters).
"""

import json
import sys
import unicodedata

from openpyxl import Workbook


def gtin13(n):
    body = f"893{n:09d}"
    total = sum(int(d) * (3 if i % 2 else 1) for i, d in enumerate(body))
    return body + str((10 - total % 10) % 10)


def main():
    out, rows = sys.argv[1], int(sys.argv[2])
    book = Workbook()
    sheet = book.active
    sheet.title = "Sản phẩm"
    sheet.append(["Mã số", "Tên sản phẩm", "Nhóm hàng", "Đơn vị tính", "Mã GTIN", "Mã vùng trồng", "Mô tả"])
    broken = []
    for i in range(rows):
        excel_row = i + 2
        name = f"Chè Ô Long số {i}"
        if i % 7 == 0:
            name = unicodedata.normalize("NFD", name)
        gtin = int(gtin13(i))
        unit = "gói 200 g"
        if i % 33 == 5:
            kind = (i // 33) % 3
            if kind == 0:
                name = ""
                broken.append({"row": excel_row, "column": "B"})
            elif kind == 1:
                gtin = int(gtin13(i)) + 1 if gtin13(i)[-1] != "9" else int(gtin13(i)) - 1
                broken.append({"row": excel_row, "column": "E"})
            else:
                unit = ""
                broken.append({"row": excel_row, "column": "D"})
        sheet.append(["", name, "Đồ uống", unit, gtin, "VT-LD-0451", None])
    book.save(out)
    for b in broken:
        print(json.dumps(b))


if __name__ == "__main__":
    main()
