//! [`FileError`]: what is wrong with a data file, and where.

use std::fmt;

/// A data file that cannot be read: the file, the position when there is one (`file:line:col`, both from 1),
/// what is wrong, and a hint when one helps.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FileError {
    /// The file as the caller named it.
    pub path: String,
    /// The line (from 1), for text files.
    pub line: Option<usize>,
    /// The column in characters (from 1), when the mistake is in one field.
    pub column: Option<usize>,
    /// What is wrong.
    pub message: String,
    /// How to fix it, when that is not obvious.
    pub hint: Option<String>,
}

impl FileError {
    /// An error about the whole file.
    pub(crate) fn file(path: &str, message: impl Into<String>) -> FileError {
        FileError { path: path.to_string(), line: None, column: None, message: message.into(), hint: None }
    }

    /// An error at a line and, if known, a column.
    pub(crate) fn at(path: &str, line: usize, column: Option<usize>, message: impl Into<String>) -> FileError {
        FileError { line: Some(line), column, ..FileError::file(path, message) }
    }

    /// The same error with a hint.
    pub(crate) fn hint(mut self, hint: impl Into<String>) -> FileError {
        self.hint = Some(hint.into());
        self
    }
}

impl fmt::Display for FileError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.path)?;
        if let Some(line) = self.line {
            write!(f, ":{line}")?;
        }
        if let Some(column) = self.column {
            write!(f, ":{column}")?;
        }
        write!(f, ": {}", self.message)?;
        if let Some(hint) = &self.hint {
            write!(f, "\n  help: {hint}")?;
        }
        Ok(())
    }
}

impl std::error::Error for FileError {}
