//! The syntax tree of a problem, with the byte range of every node in the source text.

use std::ops::Range;

/// A byte range in the problem text.
pub type Span = Range<usize>;

/// A name and where it was written.
#[derive(Clone, Debug, PartialEq)]
pub struct Ident {
    /// The name.
    pub name: String,
    /// Where it was written.
    pub span: Span,
}

/// A whole `problem Name { ... }`.
#[derive(Clone, Debug, PartialEq)]
pub struct Problem {
    /// Doc comment lines (`///`) written before `problem`.
    pub docs: Vec<String>,
    /// The problem's name: the name of the generated type.
    pub name: Ident,
    /// The items in the order written.
    pub items: Vec<Item>,
}

/// The two levels of a bilevel problem.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Level {
    /// The leader: variable `x`, objective `F`.
    Upper,
    /// The follower: variable `y`, objective `G`.
    Lower,
}

/// One declaration or statement inside the problem, with its doc comment lines.
#[derive(Clone, Debug, PartialEq)]
pub struct Item {
    /// Doc comment lines (`///`) written before the item.
    pub docs: Vec<String>,
    /// What the item declares.
    pub kind: ItemKind,
    /// The whole item.
    pub span: Span,
}

/// The kinds of items.
#[derive(Clone, Debug, PartialEq)]
pub enum ItemKind {
    /// `dim N, p;`: sizes bound when data are attached.
    Dim(Vec<Ident>),
    /// `data X: real[N, p];`: an array attached at run time.
    Data {
        /// Its name.
        name: Ident,
        /// Its sizes (one for a vector, two for a matrix).
        shape: Vec<Size>,
        /// Where the type was written.
        type_span: Span,
        /// Whether it was declared `sparse real[N, p]` (given as a `Sparse` matrix).
        sparse: bool,
        /// Where a value was written after `=` (a mistake: data come at run time).
        value_span: Option<Span>,
    },
    /// `upper x: real[2] in [lo, hi];`
    Var {
        /// Which level the variable belongs to.
        level: Level,
        /// Its name.
        name: Ident,
        /// Its sizes: none for a scalar `real`, one for `real[k]`, two for a matrix `real[k, l]`.
        shape: Vec<Size>,
        /// The box `in [lo, hi]`, if written.
        bounds: Option<(Expr, Expr)>,
    },
    /// `param a = 1.0;`: a named constant that can be changed at run time.
    Param {
        /// Its name.
        name: Ident,
        /// Its default value (a constant expression).
        value: Expr,
    },
    /// `const c = [2.0, 1.0];`: a constant folded into the generated code.
    Const {
        /// Its name.
        name: Ident,
        /// Its value (a constant expression).
        value: Expr,
    },
    /// `let r = expr;`: a named intermediate.
    Let {
        /// Its name.
        name: Ident,
        /// Its definition.
        value: Expr,
    },
    /// `minimize upper: expr;`
    Objective {
        /// Which objective this is.
        level: Level,
        /// Where the level was written.
        level_span: Span,
        /// The objective.
        expr: Expr,
    },
    /// `start x = 0, y = [0, 0];`
    Start(Vec<(Ident, Expr)>),
}

/// One size in a type: a number or the name of a `dim`.
#[derive(Clone, Debug, PartialEq)]
pub enum Size {
    /// `real[3]`
    Fixed(usize, Span),
    /// `real[N]`
    Named(Ident),
}

impl Size {
    /// Where the size was written.
    pub fn span(&self) -> Span {
        match self {
            Size::Fixed(_, s) => s.clone(),
            Size::Named(i) => i.span.clone(),
        }
    }
}

/// An expression and where it was written.
#[derive(Clone, Debug, PartialEq)]
pub struct Expr {
    /// What it is.
    pub kind: ExprKind,
    /// Where it was written.
    pub span: Span,
}

/// Binary operators.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum BinOp {
    /// `+`
    Add,
    /// `-`
    Sub,
    /// `*`
    Mul,
    /// `/`
    Div,
    /// `^`
    Pow,
    /// `<`
    Lt,
    /// `<=`
    Le,
    /// `>`
    Gt,
    /// `>=`
    Ge,
    /// `==`
    Eq,
    /// `!=`
    Ne,
    /// `and`
    And,
    /// `or`
    Or,
}

impl BinOp {
    /// The operator as written.
    pub fn symbol(self) -> &'static str {
        use BinOp::*;
        match self {
            Add => "+",
            Sub => "-",
            Mul => "*",
            Div => "/",
            Pow => "^",
            Lt => "<",
            Le => "<=",
            Gt => ">",
            Ge => ">=",
            Eq => "==",
            Ne => "!=",
            And => "and",
            Or => "or",
        }
    }
}

/// The kinds of expressions.
#[derive(Clone, Debug, PartialEq)]
pub enum ExprKind {
    /// A number literal.
    Num(f64),
    /// A name: a variable, param, const, let or sum index.
    Name(String),
    /// `base[index]`
    Index(Box<Expr>, Box<Expr>),
    /// `[a, b, c]`: a vector, or a matrix when the elements are vectors (its rows).
    Vector(Vec<Expr>),
    /// `f(a, b)`
    Call(Ident, Vec<Expr>),
    /// `sum(i in lo..hi: body)` (`hi` excluded), or `mean(...)`: the sum divided by the number of terms.
    Sum {
        /// Whether it was written `mean`.
        mean: bool,
        /// The index variable.
        var: Ident,
        /// First value of the index.
        lo: Box<Expr>,
        /// One past the last value of the index.
        hi: Box<Expr>,
        /// The summand.
        body: Box<Expr>,
    },
    /// `-a`
    Neg(Box<Expr>),
    /// `not a`
    Not(Box<Expr>),
    /// `a op b`
    Binary(BinOp, Box<Expr>, Box<Expr>),
    /// `if c then a else b`
    If(Box<Expr>, Box<Expr>, Box<Expr>),
}
