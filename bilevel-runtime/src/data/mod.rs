//! Data attached to a problem at run time: [`Array`]s checked against the declared sizes before any computation.
//!
//! A problem with `dim N, p;` and `data X: real[N, p];` is built from its data by the generated `new`, which
//! binds each `dim` from the first array that has it and rejects every disagreement with a [`DataError`] naming
//! the data items involved.
//!
//! ```
//! use bilevel_runtime::data::{Array, Extent, Sizes};
//!
//! let x = Array::matrix(3, 2, vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0]).unwrap();
//! let t = Array::vector(vec![1.0, 0.0]);
//! let mut sizes = Sizes::new(&["N", "p"]);
//! sizes.bind("X", &x, &[Extent::Dim(0), Extent::Dim(1)]).unwrap();
//! let err = sizes.bind("t", &t, &[Extent::Dim(0)]).unwrap_err();
//! assert_eq!(err.to_string(), "data item `t` has N = 2 rows, but `X` has N = 3");
//! ```

use std::fmt;
use std::ops::Index;
use std::path::Path;

use nalgebra::{DMatrix, DVector};

mod file_error;
mod npy;
mod random;
mod sparse;
mod table;

pub use file_error::FileError;
pub use random::{numbers, random_starts, Lcg};
pub use sparse::{Libsvm, Sparse};
pub use table::Table;

/// A vector or a matrix of `f64`, stored row by row (so the rows `X[i]` a loop over samples reads are
/// contiguous).
#[derive(Clone, Debug, PartialEq)]
pub struct Array {
    rows: usize,
    /// `None` for a vector.
    cols: Option<usize>,
    values: Vec<f64>,
}

impl Array {
    /// A vector (takes the values without copying).
    pub fn vector(values: Vec<f64>) -> Array {
        Array { rows: values.len(), cols: None, values }
    }

    /// A `rows × cols` matrix from its values row by row (taken without copying).
    pub fn matrix(rows: usize, cols: usize, values: Vec<f64>) -> Result<Array, DataError> {
        if rows.checked_mul(cols) != Some(values.len()) {
            return Err(DataError::Length { rows, cols, len: values.len() });
        }
        Ok(Array { rows, cols: Some(cols), values })
    }

    /// A matrix from its rows; every row must have the same length.
    pub fn from_rows(rows: &[Vec<f64>]) -> Result<Array, DataError> {
        let cols = rows.first().map_or(0, Vec::len);
        if let Some(i) = rows.iter().position(|r| r.len() != cols) {
            return Err(DataError::Ragged { row: i, len: rows[i].len(), expected: cols });
        }
        Array::matrix(rows.len(), cols, rows.concat())
    }

    /// Reads a data file by its extension: `.csv` (every column must be numeric; a header row is skipped; one
    /// column gives a vector) or NumPy `.npy`. For files with text columns or more than one data item, read a
    /// [`Table`] and take the columns.
    pub fn read(path: impl AsRef<Path>) -> Result<Array, FileError> {
        let path = path.as_ref();
        match path.extension().and_then(|e| e.to_str()).map(str::to_ascii_lowercase).as_deref() {
            Some("csv") => Table::read_csv(path)?.to_array(),
            Some("npy") => Array::read_npy(path),
            _ => Err(FileError::file(&path.display().to_string(), "unknown kind of data file")
                .hint("data files are `.csv` (comma-separated numbers) or NumPy `.npy`")),
        }
    }

    /// One-hot rows from integer class labels in `0..classes` (a vector, or a one-column matrix): row `i` has a 1
    /// in column `labels[i]` and 0 elsewhere. With labels as one-hot rows `Y`, a cross-entropy is one line:
    /// `-dot(Y[i], log_softmax(X[i] * W))`.
    ///
    /// ```
    /// use bilevel_runtime::data::Array;
    ///
    /// let y = Array::one_hot(&Array::vector(vec![2.0, 0.0]), 3).unwrap();
    /// assert_eq!(y.as_slice(), &[0.0, 0.0, 1.0, 1.0, 0.0, 0.0]);
    /// let err = Array::one_hot(&Array::vector(vec![1.0, 3.0]), 3).unwrap_err();
    /// assert_eq!(err.to_string(), "label 3 at [1] is not a class in 0..3");
    /// ```
    pub fn one_hot(labels: &Array, classes: usize) -> Result<Array, DataError> {
        if labels.cols.is_some_and(|c| c != 1) {
            let found = "a matrix with more than one column";
            return Err(DataError::Rank { item: "labels", expected: "a vector", found });
        }
        let mut values = vec![0.0; labels.rows * classes];
        for (i, &label) in labels.values.iter().enumerate() {
            if label.fract() != 0.0 || label < 0.0 || label >= classes as f64 {
                return Err(DataError::Label { at: i, label, classes });
            }
            values[i * classes + label as usize] = 1.0;
        }
        Ok(Array { rows: labels.rows, cols: Some(classes), values })
    }

    /// Every value mapped by `f` (e.g. pixels scaled to [0, 1]).
    ///
    /// ```
    /// use bilevel_runtime::data::Array;
    /// assert_eq!(Array::vector(vec![8.0, 16.0]).map(|v| v / 16.0).as_slice(), &[0.5, 1.0]);
    /// ```
    pub fn map(&self, f: impl Fn(f64) -> f64) -> Array {
        Array { values: self.values.iter().map(|v| f(*v)).collect(), ..self.clone() }
    }

    /// The matrix with one more column, every entry `value` (a column of ones for a bias term); a vector becomes
    /// a two-column matrix.
    ///
    /// ```
    /// use bilevel_runtime::data::Array;
    /// let x = Array::matrix(2, 1, vec![3.0, 4.0]).unwrap().with_column(1.0);
    /// assert_eq!((x.shape(), x.as_slice()), (vec![2, 2], &[3.0, 1.0, 4.0, 1.0][..]));
    /// ```
    pub fn with_column(&self, value: f64) -> Array {
        let cols = self.cols.unwrap_or(1);
        let mut values = Vec::with_capacity(self.rows * (cols + 1));
        for i in 0..self.rows {
            values.extend_from_slice(&self.values[i * cols..(i + 1) * cols]);
            values.push(value);
        }
        Array { rows: self.rows, cols: Some(cols + 1), values }
    }

    /// The transpose of a matrix (a copy); a vector unchanged.
    pub fn transposed(&self) -> Array {
        let Some(cols) = self.cols else { return self.clone() };
        let mut values = Vec::with_capacity(self.values.len());
        for j in 0..cols {
            values.extend((0..self.rows).map(|i| self.values[i * cols + j]));
        }
        Array { rows: cols, cols: Some(self.rows), values }
    }

    /// The sizes: one for a vector, `[rows, cols]` for a matrix.
    pub fn shape(&self) -> Vec<usize> {
        match self.cols {
            None => vec![self.rows],
            Some(c) => vec![self.rows, c],
        }
    }

    /// All values, row by row.
    pub fn as_slice(&self) -> &[f64] {
        &self.values
    }

    /// Row `i` of a matrix (element `i` of a vector, as a slice of one).
    pub fn row(&self, i: usize) -> &[f64] {
        let c = self.cols.unwrap_or(1);
        &self.values[i * c..(i + 1) * c]
    }

    /// The position of the first NaN or infinite value, as indices.
    fn first_non_finite(&self) -> Option<Vec<usize>> {
        let k = self.values.iter().position(|v| !v.is_finite())?;
        Some(match self.cols {
            None => vec![k],
            Some(c) => vec![k / c, k % c],
        })
    }
}

impl From<Vec<f64>> for Array {
    fn from(values: Vec<f64>) -> Array {
        Array::vector(values)
    }
}

impl From<DVector<f64>> for Array {
    fn from(v: DVector<f64>) -> Array {
        Array::vector(v.data.into())
    }
}

/// nalgebra stores matrices column by column: this copies once into row order.
impl From<&DMatrix<f64>> for Array {
    fn from(m: &DMatrix<f64>) -> Array {
        let values = m.transpose().data.into();
        Array { rows: m.nrows(), cols: Some(m.ncols()), values }
    }
}

impl Index<usize> for Array {
    type Output = f64;
    fn index(&self, i: usize) -> &f64 {
        &self.values[i]
    }
}

impl Index<(usize, usize)> for Array {
    type Output = f64;
    fn index(&self, (i, j): (usize, usize)) -> &f64 {
        &self.values[i * self.cols.unwrap_or(1) + j]
    }
}

/// What [`Sizes::bind`] checks of a data item: a dense [`Array`] or a [`Sparse`] matrix.
pub trait Shaped {
    /// The sizes: one for a vector, `[rows, cols]` for a matrix.
    fn sizes(&self) -> Vec<usize>;
    /// The indices of the first NaN or infinite value.
    fn first_non_finite(&self) -> Option<Vec<usize>>;
}

impl Shaped for Array {
    fn sizes(&self) -> Vec<usize> {
        self.shape()
    }
    fn first_non_finite(&self) -> Option<Vec<usize>> {
        Array::first_non_finite(self)
    }
}

impl Shaped for Sparse {
    fn sizes(&self) -> Vec<usize> {
        self.shape()
    }
    fn first_non_finite(&self) -> Option<Vec<usize>> {
        Sparse::first_non_finite(self)
    }
}

/// One declared size of a data item: a `dim` (by its position in the problem) or a number.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Extent {
    /// The `dim` with this index.
    Dim(usize),
    /// A fixed size.
    Fixed(usize),
}

/// The values of a problem's `dim`s, bound from its data items one after the other.
#[derive(Clone, Debug)]
pub struct Sizes {
    names: &'static [&'static str],
    /// The value of each dim and the data item it was taken from.
    values: Vec<Option<(usize, &'static str)>>,
}

impl Sizes {
    /// No dim bound yet.
    pub fn new(names: &'static [&'static str]) -> Sizes {
        Sizes { names, values: vec![None; names.len()] }
    }

    /// Checks `array` against the declared sizes of data item `item` and binds the dims it is the first to have.
    /// Also rejects empty arrays and arrays with NaN or infinite values. A rejected array binds nothing.
    /// A matrix with one column is accepted for a vector (a column read from a file).
    pub fn bind(&mut self, item: &'static str, array: &impl Shaped, shape: &[Extent]) -> Result<(), DataError> {
        let mut found = array.sizes();
        if shape.len() == 1 && found.len() == 2 && found[1] == 1 {
            found.pop();
        }
        if found.len() != shape.len() {
            let what = |k: usize| if k == 1 { "a vector" } else { "a matrix" };
            return Err(DataError::Rank { item, expected: what(shape.len()), found: what(found.len()) });
        }
        // Bound on a copy, kept only if the whole array fits (an axis may repeat a dim: `real[N, N]`).
        let mut values = self.values.clone();
        for (axis, (&size, extent)) in found.iter().zip(shape).enumerate() {
            if size == 0 {
                return Err(DataError::Empty { item, axis });
            }
            match *extent {
                Extent::Fixed(k) if k != size => {
                    return Err(DataError::Size { item, axis, size, declared: k.to_string(), other: None });
                }
                Extent::Dim(d) => match values[d] {
                    None => values[d] = Some((size, item)),
                    Some((k, other)) if k != size => {
                        let declared = self.names[d].to_string();
                        return Err(DataError::Size { item, axis, size, declared, other: Some((other, k)) });
                    }
                    Some(_) => {}
                },
                Extent::Fixed(_) => {}
            }
        }
        if let Some(at) = array.first_non_finite() {
            return Err(DataError::NonFinite { item, at });
        }
        self.values = values;
        Ok(())
    }

    /// The value of dim `d` (0 if no data item had it; the language requires that one does).
    pub fn get(&self, d: usize) -> usize {
        self.values[d].map_or(0, |(k, _)| k)
    }
}

/// What is wrong with the data given to a problem.
#[derive(Clone, Debug, PartialEq)]
pub enum DataError {
    /// `Array::matrix` got a number of values that is not `rows × cols`.
    Length {
        /// Rows asked for.
        rows: usize,
        /// Columns asked for.
        cols: usize,
        /// Values given.
        len: usize,
    },
    /// Rows of different lengths.
    Ragged {
        /// The first row whose length differs from row 0.
        row: usize,
        /// Its length.
        len: usize,
        /// The length of row 0.
        expected: usize,
    },
    /// A vector where a matrix was declared, or the other way round.
    Rank {
        /// The data item.
        item: &'static str,
        /// What was declared.
        expected: &'static str,
        /// What was given.
        found: &'static str,
    },
    /// An axis of size 0.
    Empty {
        /// The data item.
        item: &'static str,
        /// 0 for rows, 1 for columns.
        axis: usize,
    },
    /// A size that disagrees with the declaration or with another data item.
    Size {
        /// The data item.
        item: &'static str,
        /// 0 for rows, 1 for columns.
        axis: usize,
        /// Its size along that axis.
        size: usize,
        /// The declared size: a number, or the name of a `dim`.
        declared: String,
        /// For a `dim`: the data item it was bound from, and its value there.
        other: Option<(&'static str, usize)>,
    },
    /// A class label that is not an integer in `0..classes` ([`Array::one_hot`]).
    Label {
        /// Its position.
        at: usize,
        /// The label.
        label: f64,
        /// The number of classes.
        classes: usize,
    },
    /// An entry of a sparse matrix outside its rows and columns.
    Entry {
        /// Its row.
        row: usize,
        /// Its column.
        col: usize,
        /// The rows of the matrix.
        rows: usize,
        /// The columns of the matrix.
        cols: usize,
    },
    /// A NaN or infinite value.
    NonFinite {
        /// The data item.
        item: &'static str,
        /// The indices of the first such value.
        at: Vec<usize>,
    },
}

fn axis_name(axis: usize) -> &'static str {
    if axis == 0 {
        "rows"
    } else {
        "columns"
    }
}

impl fmt::Display for DataError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DataError::Length { rows, cols, len } => {
                write!(f, "a {rows}×{cols} matrix needs {} values, but {len} were given", rows * cols)
            }
            DataError::Ragged { row, len, expected } => {
                write!(f, "row {row} has {len} values, but row 0 has {expected}")
            }
            DataError::Rank { item, expected, found } => {
                write!(f, "data item `{item}` is declared as {expected}, but {found} was given")
            }
            DataError::Empty { item, axis } => write!(f, "data item `{item}` has no {}", axis_name(*axis)),
            DataError::Size { item, axis, size, declared, other: None } => {
                write!(f, "data item `{item}` has {size} {}, but its type says {declared}", axis_name(*axis))
            }
            DataError::Size { item, axis, size, declared, other: Some((other, was)) } => {
                let axis = axis_name(*axis);
                write!(f, "data item `{item}` has {declared} = {size} {axis}, but `{other}` has {declared} = {was}")
            }
            DataError::Label { at, label, classes } => {
                write!(f, "label {label} at [{at}] is not a class in 0..{classes}")
            }
            DataError::Entry { row, col, rows, cols } => {
                write!(f, "entry ({row}, {col}) is outside a {rows}×{cols} matrix")
            }
            DataError::NonFinite { item, at } => {
                let at: Vec<String> = at.iter().map(|i| format!("[{i}]")).collect();
                write!(f, "data item `{item}` has a NaN or infinite value at {item}{}", at.concat())
            }
        }
    }
}

impl std::error::Error for DataError {}

/// Panics with a clear message when a slice passed to a problem's method has the wrong length: each entry is
/// `(name, length, expected length)`.
#[track_caller]
pub fn check_lengths(problem: &str, slices: &[(&str, usize, usize)]) {
    for &(what, len, expected) in slices {
        assert!(len == expected, "{problem}: `{what}` has length {len}, but the problem's data make it {expected}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_size_that_differs_from_the_type_or_another_item_is_named() {
        let mut sizes = Sizes::new(&["N"]);
        let m = Array::matrix(2, 4, vec![0.0; 8]).unwrap();
        let err = sizes.bind("A", &m, &[Extent::Dim(0), Extent::Fixed(3)]).unwrap_err();
        assert_eq!(err.to_string(), "data item `A` has 4 columns, but its type says 3");
        sizes.bind("B", &m, &[Extent::Dim(0), Extent::Fixed(4)]).unwrap();
        let err = sizes.bind("c", &Array::vector(vec![1.0; 3]), &[Extent::Dim(0)]).unwrap_err();
        assert_eq!(err.to_string(), "data item `c` has N = 3 rows, but `B` has N = 2");
        assert_eq!(sizes.get(0), 2);
    }
}
