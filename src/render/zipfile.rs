//! A ZIP writer for a stream of ready-made files, stored (PNGs are compressed already, SVGs
//! are small), written front to back to any `Write`, so a file or an HTTP body will do.
//!
//! The `zip` crate keeps a record of some hundreds of bytes per entry for the central
//! directory: 430 MB for a million labels. This one keeps 28 bytes per entry (checksum,
//! size, serial; the names and offsets follow from them), with ZIP64 records once there
//! are more than 65,535 entries or the archive passes 4 GiB.

use std::io::{self, Write};

/// What the central directory needs of one entry.
struct Entry {
    index: u32,
    serial: [u8; 20],
    crc: u32,
    size: u32,
}

/// Files named `{index:07}-{serial}.{extension}`, in the order added.
pub struct ZipStream<W: Write> {
    out: W,
    extension: &'static str,
    entries: Vec<Entry>,
    written: u64,
}

const DOS_TIME: u16 = 0;
/// 1980-01-01: no clock in the archive, so that the same batch gives the same bytes.
const DOS_DATE: u16 = 0x21;
const UTF8_NAMES: u16 = 0x0800;

impl<W: Write> ZipStream<W> {
    pub fn new(out: W, extension: &'static str) -> ZipStream<W> {
        ZipStream {
            out,
            extension,
            entries: Vec::new(),
            written: 0,
        }
    }

    fn name(&self, entry: &Entry) -> String {
        format!(
            "{:07}-{}.{}",
            entry.index,
            String::from_utf8_lossy(&entry.serial),
            self.extension
        )
    }

    fn put(&mut self, bytes: &[u8]) -> io::Result<()> {
        self.out.write_all(bytes)?;
        self.written += bytes.len() as u64;
        Ok(())
    }

    /// Adds the file of label `index` with this serial (20 ASCII characters).
    pub fn add(&mut self, index: u32, serial: &str, bytes: &[u8]) -> io::Result<()> {
        let serial: [u8; 20] = serial
            .as_bytes()
            .try_into()
            .map_err(|_| io::Error::other(format!("serial {serial} is not 20 characters")))?;
        let size = u32::try_from(bytes.len())
            .map_err(|_| io::Error::other("a label file of 4 GiB or more"))?;
        let entry = Entry {
            index,
            serial,
            crc: crc32fast::hash(bytes),
            size,
        };
        let name = self.name(&entry);
        let mut header = Vec::with_capacity(30 + name.len());
        header.extend_from_slice(&0x0403_4b50u32.to_le_bytes());
        header.extend_from_slice(&20u16.to_le_bytes());
        header.extend_from_slice(&UTF8_NAMES.to_le_bytes());
        header.extend_from_slice(&0u16.to_le_bytes()); // stored
        header.extend_from_slice(&DOS_TIME.to_le_bytes());
        header.extend_from_slice(&DOS_DATE.to_le_bytes());
        header.extend_from_slice(&entry.crc.to_le_bytes());
        header.extend_from_slice(&size.to_le_bytes());
        header.extend_from_slice(&size.to_le_bytes());
        header.extend_from_slice(&(name.len() as u16).to_le_bytes());
        header.extend_from_slice(&0u16.to_le_bytes());
        header.extend_from_slice(name.as_bytes());
        self.put(&header)?;
        self.put(bytes)?;
        self.entries.push(entry);
        Ok(())
    }

    /// Writes the central directory and the end records; returns the output.
    pub fn finish(mut self) -> io::Result<W> {
        let directory_start = self.written;
        let mut offset = 0u64;
        let entries = std::mem::take(&mut self.entries);
        let mut buffer = Vec::with_capacity(1 << 16);
        for entry in &entries {
            let name = self.name(entry);
            let large = offset >= 0xFFFF_FFFF;
            buffer.extend_from_slice(&0x0201_4b50u32.to_le_bytes());
            buffer.extend_from_slice(&(0x0300u16 | 45).to_le_bytes()); // made by: Unix, 4.5
            buffer.extend_from_slice(&(if large { 45u16 } else { 20 }).to_le_bytes());
            buffer.extend_from_slice(&UTF8_NAMES.to_le_bytes());
            buffer.extend_from_slice(&0u16.to_le_bytes());
            buffer.extend_from_slice(&DOS_TIME.to_le_bytes());
            buffer.extend_from_slice(&DOS_DATE.to_le_bytes());
            buffer.extend_from_slice(&entry.crc.to_le_bytes());
            buffer.extend_from_slice(&entry.size.to_le_bytes());
            buffer.extend_from_slice(&entry.size.to_le_bytes());
            buffer.extend_from_slice(&(name.len() as u16).to_le_bytes());
            buffer.extend_from_slice(&(if large { 12u16 } else { 0 }).to_le_bytes());
            buffer.extend_from_slice(&[0; 6]); // comment length, disk, internal attributes
            buffer.extend_from_slice(&(0o100_644u32 << 16).to_le_bytes());
            let short_offset = if large { 0xFFFF_FFFF } else { offset as u32 };
            buffer.extend_from_slice(&short_offset.to_le_bytes());
            buffer.extend_from_slice(name.as_bytes());
            if large {
                buffer.extend_from_slice(&1u16.to_le_bytes());
                buffer.extend_from_slice(&8u16.to_le_bytes());
                buffer.extend_from_slice(&offset.to_le_bytes());
            }
            offset += 30 + name.len() as u64 + u64::from(entry.size);
            if buffer.len() > (1 << 16) - 256 {
                self.put(&std::mem::take(&mut buffer))?;
            }
        }
        self.put(&buffer)?;
        let directory_size = self.written - directory_start;
        let count = entries.len() as u64;
        let zip64 =
            count >= 0xFFFF || directory_start >= 0xFFFF_FFFF || directory_size >= 0xFFFF_FFFF;
        let mut end = Vec::new();
        if zip64 {
            let record = self.written;
            end.extend_from_slice(&0x0606_4b50u32.to_le_bytes());
            end.extend_from_slice(&44u64.to_le_bytes());
            end.extend_from_slice(&(0x0300u16 | 45).to_le_bytes());
            end.extend_from_slice(&45u16.to_le_bytes());
            end.extend_from_slice(&[0; 8]); // this disk, the directory's disk
            end.extend_from_slice(&count.to_le_bytes());
            end.extend_from_slice(&count.to_le_bytes());
            end.extend_from_slice(&directory_size.to_le_bytes());
            end.extend_from_slice(&directory_start.to_le_bytes());
            end.extend_from_slice(&0x0706_4b50u32.to_le_bytes());
            end.extend_from_slice(&0u32.to_le_bytes());
            end.extend_from_slice(&record.to_le_bytes());
            end.extend_from_slice(&1u32.to_le_bytes());
        }
        let clamp16 = |v: u64| if zip64 { 0xFFFF } else { v as u16 };
        let clamp32 = |v: u64| if zip64 { 0xFFFF_FFFF } else { v as u32 };
        end.extend_from_slice(&0x0605_4b50u32.to_le_bytes());
        end.extend_from_slice(&[0; 4]);
        end.extend_from_slice(&clamp16(count).to_le_bytes());
        end.extend_from_slice(&clamp16(count).to_le_bytes());
        end.extend_from_slice(&clamp32(directory_size).to_le_bytes());
        end.extend_from_slice(&clamp32(directory_start).to_le_bytes());
        end.extend_from_slice(&0u16.to_le_bytes());
        self.put(&end)?;
        self.out.flush()?;
        Ok(self.out)
    }
}

#[cfg(test)]
mod tests {
    use std::io::Read;

    use super::*;

    fn archive(count: u32) -> zip::ZipArchive<io::Cursor<Vec<u8>>> {
        let mut zip = ZipStream::new(Vec::new(), "txt");
        for index in 0..count {
            let body = format!("label {index}");
            zip.add(index, "0F9QGPN36EE7DAMVR5C5", body.as_bytes())
                .unwrap();
        }
        zip::ZipArchive::new(io::Cursor::new(zip.finish().unwrap())).unwrap()
    }

    #[test]
    fn entries_read_back_by_name_and_content() {
        let mut zip = archive(3);
        assert_eq!(zip.len(), 3);
        let mut text = String::new();
        zip.by_name("0000002-0F9QGPN36EE7DAMVR5C5.txt")
            .unwrap()
            .read_to_string(&mut text)
            .unwrap();
        assert_eq!(text, "label 2");
    }

    #[test]
    fn more_than_65535_entries_use_zip64() {
        let mut zip = archive(70_000);
        assert_eq!(zip.len(), 70_000);
        let mut text = String::new();
        zip.by_index(69_999)
            .unwrap()
            .read_to_string(&mut text)
            .unwrap();
        assert_eq!(text, "label 69999");
    }
}
