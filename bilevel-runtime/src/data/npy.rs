//! Reading NumPy `.npy` files into [`Array`]s.

use std::path::Path;

use super::file_error::FileError;
use super::Array;

impl Array {
    /// Reads a NumPy `.npy` file holding a vector or a matrix of numbers (`float64`, `float32` or an integer
    /// type; C or Fortran order). Values must be finite.
    ///
    /// ```no_run
    /// let x = bilevel_runtime::data::Array::read_npy("features.npy")?;
    /// # Ok::<(), bilevel_runtime::data::FileError>(())
    /// ```
    pub fn read_npy(path: impl AsRef<Path>) -> Result<Array, FileError> {
        let path = path.as_ref();
        let name = path.display().to_string();
        let bytes = std::fs::read(path).map_err(|e| FileError::file(&name, format!("cannot read the file: {e}")))?;
        Array::parse_npy(&name, &bytes)
    }

    /// Parses the bytes of a `.npy` file; `path` names it in errors.
    pub fn parse_npy(path: &str, bytes: &[u8]) -> Result<Array, FileError> {
        let error = |message: String| FileError::file(path, message);
        let file = npyz::NpyFile::new(bytes).map_err(|e| error(format!("not a NumPy .npy file: {e}")))?;
        let shape: Vec<usize> = file.shape().iter().map(|&s| s as usize).collect();
        let fortran = file.order() == npyz::Order::Fortran;
        let values = values(file).map_err(error)?;
        if let Some(k) = values.iter().position(|v| !v.is_finite()) {
            let at = index_in(&shape, k, fortran).iter().map(|i| format!("[{i}]")).collect::<String>();
            return Err(error(format!("the value at {at} is not a finite number"))
                .hint("data may not hold NaN or infinite values; remove or replace them first"));
        }
        match shape[..] {
            [_] => Ok(Array::vector(values)),
            [rows, cols] if fortran => Array::matrix(cols, rows, values).map(|m| m.transposed()),
            [rows, cols] => Array::matrix(rows, cols, values),
            _ => {
                return Err(error(format!("the array has {} axes; data are vectors or matrices", shape.len())));
            }
        }
        .map_err(|e| error(e.to_string()))
    }
}

/// All values as `f64`, from any real or integer dtype.
fn values(file: npyz::NpyFile<&[u8]>) -> Result<Vec<f64>, String> {
    let dtype = file.dtype().descr();
    let read = |r: std::io::Result<Vec<f64>>| r.map_err(|e| format!("the file ends early or is damaged: {e}"));
    let file = match file.try_data::<f64>() {
        Ok(data) => return read(data.collect()),
        Err(file) => file,
    };
    let file = match file.try_data::<f32>() {
        Ok(data) => return read(data.map(|v| v.map(f64::from)).collect()),
        Err(file) => file,
    };
    let file = match file.try_data::<i64>() {
        Ok(data) => return read(data.map(|v| v.map(|v| v as f64)).collect()),
        Err(file) => file,
    };
    let file = match file.try_data::<i32>() {
        Ok(data) => return read(data.map(|v| v.map(f64::from)).collect()),
        Err(file) => file,
    };
    match file.try_data::<u8>() {
        Ok(data) => read(data.map(|v| v.map(f64::from)).collect()),
        Err(_) => Err(format!("values of type {dtype} cannot be read as numbers; save the array as float64")),
    }
}

/// The multi-index of the `k`-th stored value.
fn index_in(shape: &[usize], k: usize, fortran: bool) -> Vec<usize> {
    match *shape {
        [rows, _] if fortran => vec![k % rows, k / rows],
        [_, cols] => vec![k / cols, k % cols],
        _ => vec![k],
    }
}
