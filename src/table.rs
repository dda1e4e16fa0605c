//! Numeric CSV tables, read one way for every input that is one (`pairs
//! --points FILE.csv`, `ou --params FILE`): the `csv` crate splits the
//! records (quotes, CRLF, a UTF-8 byte-order mark), and these rules say
//! what a record is:
//!
//! - blank lines are skipped; `#` starts a comment, on a line of its own or
//!   after the values (`1,2 # measured`);
//! - the first record is a header when every cell of it is a name (starts
//!   with a letter or `_`: `x,y`, `tau,sigma,dt,x0`) and one of them is
//!   not a number (`inf,nan` is a row); any other record is a row, so a
//!   row of numbers is never taken for a header, and a first line such as
//!   `1_000,2` is refused as a row that is not numbers instead of dropped.
//!
//! Cells are kept as text: each reader says in its own words which cell is
//! not a number, with its line.

/// A table as read: its header, if it has one, and its rows, each with the
/// line it came from (counted from 1).
#[derive(Debug, Clone, PartialEq)]
pub struct Table {
    pub header: Option<Vec<String>>,
    pub rows: Vec<(u64, Vec<String>)>,
}

/// Read `text` as a table (see the module's rules).
pub fn read(text: &str) -> Result<Table, String> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .comment(Some(b'#'))
        .trim(csv::Trim::All)
        .from_reader(text.as_bytes());
    let mut table = Table {
        header: None,
        rows: Vec::new(),
    };
    let mut first = true;
    let mut cursor = (0usize, 1u64); // a byte offset and its line
    for record in reader.records() {
        let record = record.map_err(|e| crate::error::one_line(&e.to_string()))?;
        let at = record.position().map_or(0, |p| p.byte() as usize);
        let line = line_of(text, at, &mut cursor);
        // A comment after the values: cut there.
        let mut cells = Vec::new();
        for cell in record.iter() {
            match cell.split_once('#') {
                Some((before, _)) => {
                    cells.push(before.trim().to_string());
                    break;
                }
                None => cells.push(cell.to_string()),
            }
        }
        while cells.last().is_some_and(String::is_empty) && cells.len() > 1 {
            cells.pop();
        }
        if cells.iter().all(String::is_empty) {
            continue;
        }
        if std::mem::take(&mut first) && is_header(&cells) {
            table.header = Some(cells);
        } else {
            table.rows.push((line, cells));
        }
    }
    Ok(table)
}

/// The line (from 1) of the record the reader reports at `byte`: where it
/// began reading, before the line ends and comment lines it skipped.
/// `cursor` (an offset and its line, moving forward) keeps the counting
/// linear in the file's size.
fn line_of(text: &str, mut byte: usize, cursor: &mut (usize, u64)) -> u64 {
    let bytes = text.as_bytes();
    loop {
        while byte < bytes.len() && matches!(bytes[byte], b'\n' | b'\r') {
            byte += 1;
        }
        if bytes.get(byte) != Some(&b'#') {
            break;
        }
        byte += text[byte..].find('\n').unwrap_or(text.len() - byte);
    }
    let byte = byte.min(bytes.len()).max(cursor.0);
    cursor.1 += bytes[cursor.0..byte]
        .iter()
        .filter(|&&c| c == b'\n')
        .count() as u64;
    cursor.0 = byte;
    cursor.1
}

/// Whether `cells` are a header: all names, not all numbers.
fn is_header(cells: &[String]) -> bool {
    let name = |c: &String| c.starts_with(|ch: char| ch.is_alphabetic() || ch == '_');
    cells.iter().all(name) && cells.iter().any(|c| c.parse::<f64>().is_err())
}

/// A row as its numbers, or the cell that is not one.
pub fn numbers(cells: &[String]) -> Result<Vec<f64>, String> {
    cells
        .iter()
        .map(|c| c.parse::<f64>().map_err(|_| c.clone()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rows(t: &Table) -> Vec<Vec<f64>> {
        t.rows.iter().map(|(_, r)| numbers(r).unwrap()).collect()
    }

    #[test]
    fn no_row_of_numbers_is_taken_for_a_header() {
        // A byte-order mark before the first row.
        let t = read("\u{feff}1,2\n3,4\n5,6\n").unwrap();
        assert_eq!((t.header.clone(), rows(&t).len()), (None, 3));
        // A comment line, then a row with a comment after it.
        let t = read("# c\n1,2 # trailing\n3,4\n").unwrap();
        assert_eq!(rows(&t), vec![vec![1.0, 2.0], vec![3.0, 4.0]]);
        // inf and nan are numbers: a row.
        let t = read("inf,nan\n1,2\n").unwrap();
        assert_eq!(t.header, None);
        assert_eq!(t.rows.len(), 2);
        // 1_000 is not a number, and not a name: a row that fails, not a
        // header that vanishes.
        let t = read("1_000,2\n3,4\n").unwrap();
        assert_eq!(t.header, None);
        assert_eq!(numbers(&t.rows[0].1), Err("1_000".to_string()));
    }

    #[test]
    fn headers_lines_quotes_and_crlf() {
        let t = read("x, y\r\n\r\n\"1\",2\r\n# note\r\n3,4\r\n").unwrap();
        assert_eq!(t.header, Some(vec!["x".to_string(), "y".to_string()]));
        assert_eq!(rows(&t), vec![vec![1.0, 2.0], vec![3.0, 4.0]]);
        assert_eq!(
            t.rows.iter().map(|(l, _)| *l).collect::<Vec<_>>(),
            vec![3, 5]
        );
        let t = read("tau,sigma,dt,x0\n1,2,0.1,0\n").unwrap();
        assert_eq!(t.header.unwrap().len(), 4);
    }
}
