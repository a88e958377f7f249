//! [`Sparse`]: a matrix stored by its nonzero entries, row by row (CSR), and the LIBSVM files it is read from.
//!
//! Storage is nalgebra-sparse's `CsrMatrix` (the crate of the nalgebra family the runtime already uses, with
//! validated construction and duplicate summing); the generated code reads it only through [`Sparse::row`], so
//! a loop over the features of a sample visits its nonzeros and costs O(nnz).

use std::path::Path;

use nalgebra_sparse::{CooMatrix, CsrMatrix};

use super::file_error::FileError;
use super::{Array, DataError};

/// A sparse matrix of `f64`: the nonzero entries of each row with their columns (compressed sparse rows).
///
/// A `data X: sparse real[N, p];` item is given as a `Sparse`. The generated products read it along rows,
/// visiting only the stored entries: a sum `dot(X[i], w)` and the scatter of a gradient into `w` cost the
/// nonzeros of row `i`, not `p`.
///
/// ```
/// use bilevel_runtime::data::{Array, Sparse};
///
/// let x = Sparse::from_triplets(2, 3, &[(0, 2, 1.5), (1, 0, -1.0), (0, 2, 0.5)]).unwrap();
/// assert_eq!(x.nnz(), 2); // the two entries at (0, 2) are summed
/// assert_eq!(x.row(0).collect::<Vec<_>>(), vec![(2, 2.0)]);
/// assert_eq!((x.get(0, 2), x.get(0, 1)), (2.0, 0.0));
/// assert_eq!(x.to_dense().as_slice(), &[0.0, 0.0, 2.0, -1.0, 0.0, 0.0]);
/// assert_eq!(Sparse::from_dense(&x.to_dense()), x);
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct Sparse {
    csr: CsrMatrix<f64>,
}

impl Sparse {
    /// A `rows × cols` matrix from `(row, col, value)` entries in any order; entries at the same place are
    /// summed. An entry outside the matrix is an error.
    pub fn from_triplets(rows: usize, cols: usize, entries: &[(usize, usize, f64)]) -> Result<Sparse, DataError> {
        let mut coo = CooMatrix::new(rows, cols);
        for &(i, j, v) in entries {
            if i >= rows || j >= cols {
                return Err(DataError::Entry { row: i, col: j, rows, cols });
            }
            coo.push(i, j, v);
        }
        Ok(Sparse { csr: CsrMatrix::from(&coo) })
    }

    /// The nonzero entries of a dense matrix (a vector is one column).
    pub fn from_dense(dense: &Array) -> Sparse {
        let (rows, cols) = (dense.shape()[0], dense.shape().get(1).copied().unwrap_or(1));
        let entries: Vec<_> = (0..rows)
            .flat_map(|i| dense.row(i).iter().enumerate().filter(|(_, v)| **v != 0.0).map(move |(j, v)| (i, j, *v)))
            .collect();
        Sparse::from_triplets(rows, cols, &entries).expect("entries inside the matrix")
    }

    /// The dense matrix (zeros where nothing is stored).
    pub fn to_dense(&self) -> Array {
        let (rows, cols) = (self.csr.nrows(), self.csr.ncols());
        let mut values = vec![0.0; rows * cols];
        for i in 0..rows {
            for (j, v) in self.row(i) {
                values[i * cols + j] = v;
            }
        }
        Array::matrix(rows, cols, values).expect("rows × cols values")
    }

    /// Reads a LIBSVM (SVMlight) file: one sample per line, `label index:value …` with feature indices from 1
    /// in increasing order; blank lines and `#` comments are skipped. The matrix has as many columns as the
    /// largest index (widen it with [`Sparse::with_cols`] to match another file). Every mistake is a
    /// [`FileError`] at `file:line:col`.
    pub fn read_libsvm(path: impl AsRef<Path>) -> Result<Libsvm, FileError> {
        let path = path.as_ref();
        let name = path.display().to_string();
        let text = std::fs::read(path).map_err(|e| FileError::file(&name, format!("cannot read the file: {e}")))?;
        let text = String::from_utf8(text).map_err(|e| {
            let line = 1 + e.as_bytes()[..e.utf8_error().valid_up_to()].iter().filter(|b| **b == b'\n').count();
            FileError::at(&name, line, None, "the file is not UTF-8 text").hint("LIBSVM files are plain text")
        })?;
        Sparse::parse_libsvm(&name, &text)
    }

    /// Parses LIBSVM text; `path` names it in errors.
    ///
    /// ```
    /// use bilevel_runtime::data::Sparse;
    ///
    /// let file = Sparse::parse_libsvm("a.svm", "+1 1:0.5 4:2\n-1 2:1 # a comment\n").unwrap();
    /// assert_eq!(file.labels.as_slice(), &[1.0, -1.0]);
    /// assert_eq!((file.features.shape(), file.features.nnz()), (vec![2, 4], 3));
    /// let err = Sparse::parse_libsvm("a.svm", "1 3:1 2:1\n").unwrap_err();
    /// assert_eq!(err.to_string(), "a.svm:1:7: feature 2 comes after feature 3\n  \
    ///                              help: LIBSVM lists the features of a line in increasing order");
    /// ```
    pub fn parse_libsvm(path: &str, text: &str) -> Result<Libsvm, FileError> {
        let (mut labels, mut entries, mut cols) = (Vec::new(), Vec::new(), 0);
        for (k, line) in text.lines().enumerate() {
            let content = line.split('#').next().unwrap_or("");
            let mut fields = fields(content);
            let Some((at, label)) = fields.next() else { continue };
            let row = labels.len();
            labels.push(number(label).ok_or_else(|| {
                FileError::at(path, k + 1, Some(at), format!("the label `{label}` is not a number"))
                    .hint("each line starts with the sample's label, then `index:value` pairs")
            })?);
            let mut last = 0;
            for (at, field) in fields {
                let error = |message: String| FileError::at(path, k + 1, Some(at), message);
                let Some((index, value)) = field.split_once(':') else {
                    return Err(error(format!("`{field}` is not an `index:value` pair")));
                };
                if index == "qid" {
                    continue; // a ranking query id, not a feature
                }
                let index: usize = index.parse().map_err(|_| error(format!("`{index}` is not a feature index")))?;
                if index == 0 {
                    return Err(error("feature index 0".into()).hint("LIBSVM feature indices start at 1"));
                }
                if index <= last {
                    return Err(error(format!("feature {index} comes after feature {last}"))
                        .hint("LIBSVM lists the features of a line in increasing order"));
                }
                let value = number(value)
                    .ok_or_else(|| error(format!("the value `{value}` of feature {index} is not a number")))?;
                last = index;
                cols = cols.max(index);
                entries.push((row, index - 1, value));
            }
        }
        if labels.is_empty() {
            return Err(FileError::file(path, "the file has no samples"));
        }
        let features = Sparse::from_triplets(labels.len(), cols, &entries).expect("entries inside the matrix");
        Ok(Libsvm { labels: Array::vector(labels), features })
    }

    /// The same matrix with `cols` columns: a test file whose largest feature index is below the training
    /// file's is widened to the training file's columns. Fewer columns than an entry needs is an error.
    pub fn with_cols(&self, cols: usize) -> Result<Sparse, DataError> {
        Sparse::from_triplets(self.csr.nrows(), cols, &self.entries())
    }

    /// The matrix with one more column, every entry `value` (a column of ones for a bias term).
    ///
    /// ```
    /// use bilevel_runtime::data::Sparse;
    /// let x = Sparse::from_triplets(2, 1, &[(1, 0, 3.0)]).unwrap().with_column(1.0);
    /// assert_eq!(x.to_dense().as_slice(), &[0.0, 1.0, 3.0, 1.0]);
    /// ```
    pub fn with_column(&self, value: f64) -> Sparse {
        let (rows, cols) = (self.csr.nrows(), self.csr.ncols());
        let mut entries = self.entries();
        entries.extend((0..rows).map(|i| (i, cols, value)));
        Sparse::from_triplets(rows, cols + 1, &entries).expect("entries inside the matrix")
    }

    /// Every stored value mapped by `f`; entries not stored stay zero (so `f` should map 0 to 0).
    pub fn map(&self, f: impl Fn(f64) -> f64) -> Sparse {
        let mut csr = self.csr.clone();
        csr.values_mut().iter_mut().for_each(|v| *v = f(*v));
        Sparse { csr }
    }

    /// `[rows, cols]`.
    pub fn shape(&self) -> Vec<usize> {
        vec![self.csr.nrows(), self.csr.ncols()]
    }

    /// The number of stored entries.
    pub fn nnz(&self) -> usize {
        self.csr.nnz()
    }

    /// The stored entries of row `i` as `(column, value)`, in increasing column order.
    #[inline]
    pub fn row(&self, i: usize) -> impl Iterator<Item = (usize, f64)> + '_ {
        let offsets = self.csr.row_offsets();
        let (start, end) = (offsets[i], offsets[i + 1]);
        self.csr.col_indices()[start..end].iter().copied().zip(self.csr.values()[start..end].iter().copied())
    }

    /// Entry `(i, j)`: a binary search in row `i` (generated code reads along rows with [`Sparse::row`] and uses
    /// this only for an entry at a fixed column).
    pub fn get(&self, i: usize, j: usize) -> f64 {
        let offsets = self.csr.row_offsets();
        let (start, end) = (offsets[i], offsets[i + 1]);
        match self.csr.col_indices()[start..end].binary_search(&j) {
            Ok(k) => self.csr.values()[start + k],
            Err(_) => 0.0,
        }
    }

    /// The position of the first NaN or infinite stored value.
    pub(super) fn first_non_finite(&self) -> Option<Vec<usize>> {
        (0..self.csr.nrows()).find_map(|i| self.row(i).find(|(_, v)| !v.is_finite()).map(|(j, _)| vec![i, j]))
    }

    fn entries(&self) -> Vec<(usize, usize, f64)> {
        (0..self.csr.nrows()).flat_map(|i| self.row(i).map(move |(j, v)| (i, j, v))).collect()
    }
}

/// A LIBSVM file: the labels and the features of its samples.
#[derive(Clone, Debug, PartialEq)]
pub struct Libsvm {
    /// The first number of each line.
    pub labels: Array,
    /// One row per line, one column per feature index (index `k` is column `k − 1`).
    pub features: Sparse,
}

/// The whitespace-separated fields of a line with their columns (in characters, from 1).
fn fields(line: &str) -> impl Iterator<Item = (usize, &str)> {
    let mut chars = 0;
    let mut rest = line;
    std::iter::from_fn(move || {
        let skipped = rest.len() - rest.trim_start().len();
        chars += rest[..skipped].chars().count();
        rest = &rest[skipped..];
        if rest.is_empty() {
            return None;
        }
        let len = rest.find(char::is_whitespace).unwrap_or(rest.len());
        let (field, at) = (&rest[..len], chars + 1);
        chars += field.chars().count();
        rest = &rest[len..];
        Some((at, field))
    })
}

/// A finite number.
fn number(text: &str) -> Option<f64> {
    text.parse::<f64>().ok().filter(|v| v.is_finite())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(text: &str) -> String {
        Sparse::parse_libsvm("f.svm", text).unwrap_err().to_string()
    }

    #[test]
    fn every_mistake_in_a_libsvm_file_is_placed() {
        assert_eq!(err("1 1:2\nx 1:1\n"), "f.svm:2:1: the label `x` is not a number\n  help: each line starts with the sample's label, then `index:value` pairs");
        assert_eq!(err("1  2\n"), "f.svm:1:4: `2` is not an `index:value` pair");
        assert_eq!(err("1 0:1\n"), "f.svm:1:3: feature index 0\n  help: LIBSVM feature indices start at 1");
        assert_eq!(err("1 a:1\n"), "f.svm:1:3: `a` is not a feature index");
        assert_eq!(err("1 1:nan\n"), "f.svm:1:3: the value `nan` of feature 1 is not a number");
        assert_eq!(err("1 é:1\n"), "f.svm:1:3: `é` is not a feature index");
        assert_eq!(err("é 1:1\n"), "f.svm:1:1: the label `é` is not a number\n  help: each line starts with the sample's label, then `index:value` pairs");
        assert_eq!(err("# only a comment\n\n"), "f.svm: the file has no samples");
    }

    #[test]
    fn a_libsvm_file_reads_into_labels_and_rows() {
        let text = "# header\n-1 qid:3 2:0.5 10:1e-3\n\n+1\t1:1 2:-2 # note\n";
        let file = Sparse::parse_libsvm("f.svm", text).unwrap();
        assert_eq!(file.labels.as_slice(), &[-1.0, 1.0]);
        assert_eq!(file.features.shape(), vec![2, 10]);
        assert_eq!(file.features.row(0).collect::<Vec<_>>(), vec![(1, 0.5), (9, 1e-3)]);
        assert_eq!(file.features.row(1).collect::<Vec<_>>(), vec![(0, 1.0), (1, -2.0)]);
        let wide = file.features.with_cols(12).unwrap();
        assert_eq!((wide.shape(), wide.get(0, 9)), (vec![2, 12], 1e-3));
        let narrow = file.features.with_cols(5).unwrap_err();
        assert_eq!(narrow.to_string(), "entry (0, 9) is outside a 2×5 matrix");
    }

    #[test]
    fn a_dense_vector_is_one_sparse_column() {
        let x = Sparse::from_dense(&Array::vector(vec![1.0, 0.0, 3.0]));
        assert_eq!((x.shape(), x.nnz(), x.get(2, 0)), (vec![3, 1], 2, 3.0));
    }
}
