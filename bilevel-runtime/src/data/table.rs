//! [`Table`]: a CSV file read into named columns, from which [`Array`]s are taken.

use std::path::Path;

use super::file_error::FileError;
use super::Array;

/// A CSV file: rows of fields, with the names of the columns when the first row is a header.
///
/// The first row is a header when none of its fields is a number. Numbers are read when an [`Array`] is
/// taken, so a table may hold text columns (a `split` column, say) beside numeric ones; every field that is
/// taken must be a finite number. Every mistake is a [`FileError`] at `file:line:col`.
///
/// ```
/// use bilevel_runtime::data::Table;
///
/// let csv = "split,f0,f1,target\ntrain,0.5,1,3\nval,1.5,2,4\ntrain,2.5,3,5\n";
/// let table = Table::parse_csv("samples.csv", csv).unwrap();
/// let train = table.rows_where("split", "train").unwrap();
/// let x = train.matrix(&["f0", "f1"]).unwrap();
/// assert_eq!(x.shape(), vec![2, 2]);
/// assert_eq!(x[(1, 0)], 2.5);
/// assert_eq!(train.vector("target").unwrap().as_slice(), &[3.0, 5.0]);
///
/// let err = table.vector("split").unwrap_err();
/// assert_eq!(err.to_string(), "samples.csv:2:1: `train` in column `split` is not a number");
/// ```
#[derive(Clone, Debug)]
pub struct Table {
    path: String,
    header: Option<Vec<String>>,
    rows: Vec<Row>,
}

/// One row: its fields and its line in the file.
#[derive(Clone, Debug)]
struct Row {
    fields: csv::StringRecord,
    line: usize,
}

impl Table {
    /// Reads a CSV file (comma-separated; quoted fields and `\r\n` line ends are accepted).
    pub fn read_csv(path: impl AsRef<Path>) -> Result<Table, FileError> {
        let path = path.as_ref();
        let name = path.display().to_string();
        let text = std::fs::read(path).map_err(|e| FileError::file(&name, format!("cannot read the file: {e}")))?;
        Table::parse_csv(&name, text)
    }

    /// Parses CSV text; `path` names it in errors.
    pub fn parse_csv(path: &str, text: impl AsRef<[u8]>) -> Result<Table, FileError> {
        // Records end at `\n` only (a `\r` before it is trimmed with the field): the crate's own line numbers
        // are then exact for `\r\n` files too, and blank lines come out as records of one empty field.
        let mut reader = csv::ReaderBuilder::new()
            .terminator(csv::Terminator::Any(b'\n'))
            .has_headers(false)
            .flexible(true)
            .from_reader(text.as_ref());
        let mut rows = Vec::new();
        for record in reader.records() {
            let fields = record.map_err(|e| csv_error(path, &e))?;
            let line = fields.position().map_or(0, csv::Position::line) as usize;
            if fields.len() == 1 && fields[0].trim().is_empty() {
                continue; // a blank line
            }
            rows.push(Row { fields, line });
        }
        let Some(first) = rows.first() else {
            return Err(FileError::file(path, "the file has no rows"));
        };
        let header = is_header(path, first)?.then(|| {
            let first = rows.remove(0);
            first.fields.iter().map(|f| f.trim().to_string()).collect()
        });
        let table = Table { path: path.to_string(), header, rows };
        table.check_row_lengths()?;
        if table.rows.is_empty() {
            return Err(FileError::file(path, "the file has a header but no rows of data"));
        }
        Ok(table)
    }

    /// Every row has as many fields as the header (or the first row).
    fn check_row_lengths(&self) -> Result<(), FileError> {
        let (expected, what) = match &self.header {
            Some(names) => (names.len(), "the header has"),
            None => (self.rows[0].fields.len(), "the first row has"),
        };
        match self.rows.iter().find(|r| r.fields.len() != expected) {
            None => Ok(()),
            Some(row) => {
                let found = row.fields.len();
                Err(FileError::at(
                    &self.path,
                    row.line,
                    None,
                    format!("this row has {found} fields, but {what} {expected}"),
                )
                .hint("every row of a data file must have the same number of fields"))
            }
        }
    }

    /// The column names, if the file has a header.
    pub fn header(&self) -> Option<&[String]> {
        self.header.as_deref()
    }

    /// The number of rows of data (without the header).
    pub fn rows(&self) -> usize {
        self.rows.len()
    }

    /// The number of columns.
    pub fn columns(&self) -> usize {
        match (&self.header, self.rows.first()) {
            (Some(names), _) => names.len(),
            (None, Some(row)) => row.fields.len(),
            (None, None) => 0,
        }
    }

    /// The rows whose field in `column` is `value` (e.g. `rows_where("split", "train")`), in file order.
    pub fn rows_where(&self, column: &str, value: &str) -> Result<Table, FileError> {
        let c = self.column_index(column)?;
        let rows: Vec<Row> = self.rows.iter().filter(|r| r.fields[c].trim() == value).cloned().collect();
        if rows.is_empty() {
            let mut seen: Vec<&str> = self.rows.iter().map(|r| r.fields[c].trim()).collect();
            seen.sort_unstable();
            seen.dedup();
            let shown: Vec<String> = seen.iter().take(8).map(|v| format!("`{v}`")).collect();
            let more = if seen.len() > 8 { ", …" } else { "" };
            return Err(FileError::file(&self.path, format!("no row has `{value}` in column `{column}`"))
                .hint(format!("the column holds {}{more}", shown.join(", "))));
        }
        Ok(Table { rows, ..self.clone_empty() })
    }

    fn clone_empty(&self) -> Table {
        Table { path: self.path.clone(), header: self.header.clone(), rows: Vec::new() }
    }

    /// The first `rows` rows (all of them if there are fewer).
    pub fn head(&self, rows: usize) -> Table {
        Table { rows: self.rows.iter().take(rows).cloned().collect(), ..self.clone_empty() }
    }

    /// A vector of the numbers in one named column.
    pub fn vector(&self, column: &str) -> Result<Array, FileError> {
        let c = self.column_index(column)?;
        Ok(Array::vector(self.numbers(&[c])?))
    }

    /// A matrix of the numbers in the named columns, one row per row of the table.
    pub fn matrix<S: AsRef<str>>(&self, columns: &[S]) -> Result<Array, FileError> {
        let indices = columns.iter().map(|c| self.column_index(c.as_ref())).collect::<Result<Vec<_>, _>>()?;
        let values = self.numbers(&indices)?;
        Array::matrix(self.rows.len(), indices.len(), values).map_err(|e| FileError::file(&self.path, e.to_string()))
    }

    /// Every column: a vector if the table has one column, a matrix otherwise.
    pub fn to_array(&self) -> Result<Array, FileError> {
        let all: Vec<usize> = (0..self.columns()).collect();
        let values = self.numbers(&all)?;
        if all.len() == 1 {
            return Ok(Array::vector(values));
        }
        Array::matrix(self.rows.len(), all.len(), values).map_err(|e| FileError::file(&self.path, e.to_string()))
    }

    fn column_index(&self, column: &str) -> Result<usize, FileError> {
        let Some(names) = &self.header else {
            return Err(FileError::file(&self.path, format!("no column is named `{column}`: the file has no header"))
                .hint("take every column with `to_array`, or add a header row of column names"));
        };
        names.iter().position(|n| n == column).ok_or_else(|| {
            let listed: Vec<String> = names.iter().take(12).map(|n| format!("`{n}`")).collect();
            let more = if names.len() > 12 { ", …" } else { "" };
            FileError::file(&self.path, format!("no column is named `{column}`"))
                .hint(format!("the columns are {}{more}", listed.join(", ")))
        })
    }

    /// The numbers in the given columns, row by row.
    fn numbers(&self, columns: &[usize]) -> Result<Vec<f64>, FileError> {
        let mut values = Vec::with_capacity(self.rows.len() * columns.len());
        for row in &self.rows {
            for &c in columns {
                values.push(self.number(row, c)?);
            }
        }
        Ok(values)
    }

    fn number(&self, row: &Row, c: usize) -> Result<f64, FileError> {
        let field = row.fields[c].trim();
        let at = |message: String| FileError::at(&self.path, row.line, Some(column_of(row, c)), message);
        let name = match &self.header {
            Some(names) => format!("column `{}`", names[c]),
            None => format!("column {}", c + 1),
        };
        if field.is_empty() {
            return Err(at(format!("{name} is empty")).hint("data files may not have missing values"));
        }
        match field.parse::<f64>() {
            Ok(v) if v.is_finite() => Ok(v),
            Ok(_) => Err(at(format!("`{field}` in {name} is not a finite number"))
                .hint("data may not hold NaN or infinite values; remove or replace them first")),
            Err(_) => Err(at(format!("`{field}` in {name} is not a number"))),
        }
    }
}

/// Whether the first row is a header: none of its fields is a number. A row of both numbers and text is a
/// mistake, reported at its first field that is not a number.
fn is_header(path: &str, first: &Row) -> Result<bool, FileError> {
    let numeric = |f: &str| f.trim().parse::<f64>().is_ok();
    if first.fields.iter().all(numeric) {
        return Ok(false);
    }
    if !first.fields.iter().any(numeric) {
        return Ok(true);
    }
    let c = first.fields.iter().position(|f| !numeric(f)).unwrap_or(0);
    let field = first.fields[c].trim();
    Err(FileError::at(
        path,
        first.line,
        Some(column_of(first, c)),
        format!("`{field}` in column {} is not a number", c + 1),
    )
    .hint("the first row mixes numbers and text: a header row names every column, a data row holds only numbers"))
}

/// The column (in characters, from 1) where field `c` of a row starts: the fields before it and their commas.
/// Exact for unquoted fields (numbers are never quoted); a quoted field before it shifts it by its quotes.
fn column_of(row: &Row, c: usize) -> usize {
    let before: usize = (0..c).map(|k| row.fields[k].chars().count() + 1).sum();
    before + 1
}

fn csv_error(path: &str, e: &csv::Error) -> FileError {
    let line = e.position().map_or(0, csv::Position::line) as usize;
    let message = match e.kind() {
        csv::ErrorKind::Utf8 { .. } => "the file is not UTF-8 text".to_string(),
        _ => e.to_string(),
    };
    FileError::at(path, line, None, message)
}
