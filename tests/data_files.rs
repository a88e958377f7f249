//! Data files: CSV tables and NumPy `.npy` arrays read into `Array`s, and every malformed file rejected with an
//! error naming the file and, for text, the line and column.

use bilevel::data::{Array, FileError, Table};
use bilevel::{bilevel, MatrixFreeProblem};

fn csv(text: &str) -> Result<Table, FileError> {
    Table::parse_csv("d.csv", text)
}

fn csv_error(text: &str, take: impl Fn(&Table) -> Result<Array, FileError>) -> String {
    match csv(text).and_then(|t| take(&t)) {
        Ok(a) => panic!("accepted: {a:?}"),
        Err(e) => e.to_string(),
    }
}

#[test]
fn a_numeric_csv_is_a_matrix_or_a_vector() {
    let m = csv("1,2,3\n4,5,6\n").unwrap().to_array().unwrap();
    assert_eq!((m.shape(), m.as_slice()), (vec![2, 3], &[1.0, 2.0, 3.0, 4.0, 5.0, 6.0][..]));
    let v = csv("x\n1.5\n-2e-3\n").unwrap().to_array().unwrap();
    assert_eq!((v.shape(), v.as_slice()), (vec![2], &[1.5, -2e-3][..]));
    // Windows line ends, blank lines, spaces around numbers and quoted numbers are read; lines are counted as written.
    let t = csv("a,b\r\n 1 ,\"2\"\r\n\r\n3,4\r\n").unwrap();
    assert_eq!(t.header().unwrap(), &["a".to_string(), "b".to_string()]);
    assert_eq!(t.to_array().unwrap().as_slice(), &[1.0, 2.0, 3.0, 4.0]);
    assert_eq!(csv_error("a\r\n1\r\n\r\nz\r\n", |t| t.to_array()), "d.csv:4:1: `z` in column `a` is not a number");
}

#[test]
fn columns_and_rows_are_taken_by_name() {
    let t = csv("split,f0,f1,target\ntrain,0.5,1,3\nval,1.5,2,4\ntrain,2.5,3,5\n").unwrap();
    assert_eq!((t.rows(), t.columns()), (3, 4));
    let val = t.rows_where("split", "val").unwrap();
    assert_eq!(val.matrix(&["f1", "f0"]).unwrap().as_slice(), &[2.0, 1.5]);
    assert_eq!(val.vector("target").unwrap().as_slice(), &[4.0]);
}

#[test]
fn a_field_that_is_not_a_finite_number_is_named_at_its_line_and_column() {
    let all = |t: &Table| t.to_array();
    assert_eq!(csv_error("1,2\n3,x4\n", all), "d.csv:2:3: `x4` in column 2 is not a number");
    let text = "a,bb,c\n1,2,3\n4,,6\n";
    assert_eq!(csv_error(text, all), "d.csv:3:3: column `bb` is empty\n  help: data files may not have missing values");
    let err = csv_error("a,b\n1,2\n3,NaN\n", all);
    assert!(err.starts_with("d.csv:3:3: `NaN` in column `b` is not a finite number\n  help:"), "{err}");
    let err = csv_error("a,b\n1,inf\n", |t| t.vector("b"));
    assert!(err.starts_with("d.csv:2:3: `inf` in column `b` is not a finite number"), "{err}");
}

#[test]
fn a_short_row_or_a_damaged_file_is_rejected_at_its_line() {
    let err = csv_error("a,b,c\n1,2,3\n4,5\n", |t| t.to_array());
    assert_eq!(err, "d.csv:3: this row has 2 fields, but the header has 3\n  help: every row of a data file must have the same number of fields");
    let err = csv_error("1,2\n3,4,5\n", |t| t.to_array());
    assert!(err.starts_with("d.csv:2: this row has 3 fields, but the first row has 2"), "{err}");
    let err = csv_error("1,abc\n", |t| t.to_array());
    assert!(err.starts_with("d.csv:1:3: `abc` in column 2 is not a number\n  help: the first row mixes"), "{err}");
    assert_eq!(csv("").unwrap_err().to_string(), "d.csv: the file has no rows");
    assert_eq!(csv("a,b\n").unwrap_err().to_string(), "d.csv: the file has a header but no rows of data");
    let err = Table::parse_csv("d.csv", b"a,b\n1,\xff\n").unwrap_err();
    assert_eq!(err.to_string(), "d.csv:2: the file is not UTF-8 text");
}

#[test]
fn an_unknown_column_or_value_lists_what_there_is() {
    let t = csv("split,f0\ntrain,1\nval,2\n").unwrap();
    let err = t.vector("f1").unwrap_err();
    assert_eq!(err.to_string(), "d.csv: no column is named `f1`\n  help: the columns are `split`, `f0`");
    let err = t.rows_where("split", "test").unwrap_err();
    assert_eq!(err.to_string(), "d.csv: no row has `test` in column `split`\n  help: the column holds `train`, `val`");
    let err = csv("1,2\n").unwrap().vector("a").unwrap_err();
    assert!(err.to_string().starts_with("d.csv: no column is named `a`: the file has no header"), "{err}");
}

/// The bytes of a version-1 `.npy` file.
fn npy(descr: &str, fortran: bool, shape: &str, payload: &[u8]) -> Vec<u8> {
    let order = if fortran { "True" } else { "False" };
    let mut header = format!("{{'descr': '{descr}', 'fortran_order': {order}, 'shape': {shape}, }}");
    while (10 + header.len() + 1) % 64 != 0 {
        header.push(' ');
    }
    header.push('\n');
    let mut bytes = b"\x93NUMPY\x01\x00".to_vec();
    bytes.extend((header.len() as u16).to_le_bytes());
    bytes.extend(header.bytes());
    bytes.extend(payload);
    bytes
}

fn f64s(values: &[f64]) -> Vec<u8> {
    values.iter().flat_map(|v| v.to_le_bytes()).collect()
}

#[test]
fn npy_arrays_of_any_real_type_and_order_are_read() {
    let c = Array::parse_npy("a.npy", &npy("<f8", false, "(2, 3)", &f64s(&[1., 2., 3., 4., 5., 6.]))).unwrap();
    assert_eq!((c.shape(), c[(1, 0)]), (vec![2, 3], 4.0));
    // Fortran order stores columns: the same matrix.
    let f = Array::parse_npy("a.npy", &npy("<f8", true, "(2, 3)", &f64s(&[1., 4., 2., 5., 3., 6.]))).unwrap();
    assert_eq!(f, c);
    let v = Array::parse_npy("a.npy", &npy("<f4", false, "(2,)", &[0, 0, 0xc0, 0x3f, 0, 0, 0, 0xc0])).unwrap();
    assert_eq!(v.as_slice(), &[1.5, -2.0]);
    let labels: Vec<u8> = [3i64, -1].iter().flat_map(|v| v.to_le_bytes()).collect();
    assert_eq!(Array::parse_npy("a.npy", &npy("<i8", false, "(2,)", &labels)).unwrap().as_slice(), &[3.0, -1.0]);
}

#[test]
fn a_malformed_npy_file_is_a_clear_error() {
    let err = |bytes: Vec<u8>| Array::parse_npy("a.npy", &bytes).unwrap_err().to_string();
    assert!(err(b"1,2,3\n".to_vec()).starts_with("a.npy: not a NumPy .npy file"));
    assert!(err(npy("<f8", false, "(2, 3)", &f64s(&[1.0; 5]))).starts_with("a.npy: the file ends early or is damaged"));
    assert_eq!(
        err(npy("<f8", false, "(1, 1, 2)", &f64s(&[1.0; 2]))),
        "a.npy: the array has 3 axes; data are vectors or matrices"
    );
    let nan = err(npy("<f8", true, "(2, 2)", &f64s(&[1.0, 2.0, f64::NAN, 4.0])));
    assert!(nan.starts_with("a.npy: the value at [0][1] is not a finite number"), "{nan}");
    let text = err(npy("|S2", false, "(2,)", b"abcd"));
    assert!(text.starts_with("a.npy: values of type '|S2' cannot be read as numbers"), "{text}");
}

#[test]
fn files_are_read_by_their_extension() {
    let dir = std::env::temp_dir().join(format!("bilevel-data-files-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let (c, n, other) = (dir.join("x.csv"), dir.join("x.npy"), dir.join("x.txt"));
    std::fs::write(&c, "1,2\n3,4\n").unwrap();
    std::fs::write(&n, npy("<f8", false, "(2, 2)", &f64s(&[1., 2., 3., 4.]))).unwrap();
    std::fs::write(&other, "1,2\n").unwrap();
    assert_eq!(Array::read(&c).unwrap(), Array::read(&n).unwrap());
    let err = Array::read(&other).unwrap_err();
    assert!(
        err.to_string().ends_with(
            "x.txt: unknown kind of data file\n  help: data files are `.csv` (comma-separated numbers) or NumPy `.npy`"
        ),
        "{err}"
    );
    let missing = Array::read(dir.join("missing.csv")).unwrap_err();
    assert!(missing.to_string().contains("missing.csv: cannot read the file"), "{missing}");
    std::fs::remove_dir_all(&dir).unwrap();
}

bilevel! {
    /// Ridge regression with one regularization weight per feature (docs/algorithms.md, P7 without the bias).
    problem Ridge {
        dim N, Nv, p;
        data X: real[N, p];
        data t: real[N];
        data Xv: real[Nv, p];
        data tv: real[Nv];
        upper lam: real[p];
        lower w: real[p];
        minimize lower: norm2(X * w - t) / (2 * N) + 0.5 * sum(j in 0..p: exp(lam[j]) * w[j]^2);
        minimize upper: norm2(Xv * w - tv) / (2 * Nv);
    }
}

#[test]
fn the_diabetes_split_attaches_to_a_problem() {
    let table = Table::read_csv(concat!(env!("CARGO_MANIFEST_DIR"), "/examples/data/diabetes_split.csv")).unwrap();
    let features: Vec<String> = (0..10).map(|k| format!("f{k}")).collect();
    let (train, val) = (table.rows_where("split", "train").unwrap(), table.rows_where("split", "val").unwrap());
    let data = RidgeData {
        X: train.matrix(&features).unwrap(),
        t: train.vector("target").unwrap(),
        Xv: val.matrix(&features).unwrap(),
        tv: val.vector("target").unwrap(),
    };
    let x = data.X.clone();
    let t = data.t.clone();
    let problem = Ridge::new(data).unwrap();
    assert_eq!(problem.dims(), (10, 10));
    // G at w = 1, λ = 0 against the sum written out.
    let (lam, w) = (vec![0.0; 10], vec![1.0; 10]);
    let residuals: f64 = (0..221).map(|i| (x.row(i).iter().sum::<f64>() - t[i]).powi(2)).sum();
    let expected = residuals / (2.0 * 221.0) + 5.0;
    assert!((problem.lower(&lam, &w) - expected).abs() <= 1e-12 * expected);
}

#[test]
fn a_one_column_matrix_is_accepted_for_a_vector() {
    let x = Array::matrix(2, 1, vec![1.0, 2.0]).unwrap();
    let t = csv("t\n1\n2\n").unwrap().matrix(&["t"]).unwrap();
    let problem = Ridge::new(RidgeData { X: x.clone(), t, Xv: x, tv: Array::vector(vec![0.5, 1.0]) }).unwrap();
    assert_eq!(problem.lower(&[0.0], &[0.0]), (1.0 + 4.0) / 4.0);
}

#[test]
fn empty_selections_and_matrices_are_errors_or_arrays_not_panics() {
    let t = csv("a,b\n1,2\n").unwrap().head(0);
    assert_eq!((t.rows(), t.columns()), (0, 2));
    let empty = t.to_array().unwrap();
    assert_eq!(empty.shape(), vec![0, 2]);
    let headless = csv("1,2\n").unwrap().head(0);
    assert_eq!(headless.columns(), 0);
    let no_columns = Array::matrix(2, 0, vec![]).unwrap().with_column(1.0);
    assert_eq!((no_columns.shape(), no_columns.as_slice()), (vec![2, 1], &[1.0, 1.0][..]));
}
