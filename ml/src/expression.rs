//! Arithmetic expressions over a row's columns, for feature recipes (issue 3): for example
//! `torque * rotational_speed * 2 * pi / 60` derives mechanical power. Parsed once against the
//! column list, so evaluating a row is a walk over a small tree with no name lookups; training
//! and live inference evaluate the same parsed expression.

use std::fmt;

/// A parsed expression, bound to column positions.
#[derive(Debug, Clone, PartialEq)]
pub struct Expression {
    source: String,
    root: Node,
}

#[derive(Debug, Clone, PartialEq)]
enum Node {
    Number(f64),
    Column(usize),
    Negate(Box<Node>),
    Binary(Operator, Box<Node>, Box<Node>),
    Call(Function, Vec<Node>),
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Operator {
    Add,
    Subtract,
    Multiply,
    Divide,
    Power,
}

impl Operator {
    /// Binding power: higher binds tighter; `^` is right-associative.
    fn precedence(self) -> (u8, u8) {
        match self {
            Operator::Add | Operator::Subtract => (1, 2),
            Operator::Multiply | Operator::Divide => (3, 4),
            Operator::Power => (6, 5),
        }
    }

    fn apply(self, left: f64, right: f64) -> f64 {
        match self {
            Operator::Add => left + right,
            Operator::Subtract => left - right,
            Operator::Multiply => left * right,
            Operator::Divide => left / right,
            Operator::Power => left.powf(right),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Function {
    Abs,
    Sqrt,
    Ln,
    Exp,
    Min,
    Max,
}

impl Function {
    const ALL: [(&'static str, Function, usize); 6] = [
        ("abs", Function::Abs, 1),
        ("sqrt", Function::Sqrt, 1),
        ("ln", Function::Ln, 1),
        ("exp", Function::Exp, 1),
        ("min", Function::Min, 2),
        ("max", Function::Max, 2),
    ];

    fn apply(self, arguments: &[f64]) -> f64 {
        match self {
            Function::Abs => arguments[0].abs(),
            Function::Sqrt => arguments[0].sqrt(),
            Function::Ln => arguments[0].ln(),
            Function::Exp => arguments[0].exp(),
            Function::Min => arguments[0].min(arguments[1]),
            Function::Max => arguments[0].max(arguments[1]),
        }
    }
}

/// Why an expression does not parse, with the 1-based character where the problem starts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExpressionError {
    pub position: usize,
    pub message: String,
}

impl fmt::Display for ExpressionError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "at character {}: {}", self.position, self.message)
    }
}

impl std::error::Error for ExpressionError {}

#[derive(Debug, Clone, PartialEq)]
enum Token {
    Number(f64),
    Name(String),
    Operator(Operator),
    Open,
    Close,
    Comma,
}

/// Splits the text into tokens with their 1-based start positions.
fn tokenize(source: &str) -> Result<Vec<(usize, Token)>, ExpressionError> {
    let chars: Vec<char> = source.chars().collect();
    let mut tokens = Vec::new();
    let mut index = 0;
    while index < chars.len() {
        let start = index;
        let c = chars[index];
        let token = match c {
            ' ' | '\t' => {
                index += 1;
                continue;
            }
            '0'..='9' | '.' => {
                while index < chars.len() && (chars[index].is_ascii_digit() || chars[index] == '.')
                {
                    index += 1;
                }
                // An exponent such as 1e-3.
                if index < chars.len() && (chars[index] == 'e' || chars[index] == 'E') {
                    let mut end = index + 1;
                    if end < chars.len() && (chars[end] == '-' || chars[end] == '+') {
                        end += 1;
                    }
                    if end < chars.len() && chars[end].is_ascii_digit() {
                        index = end;
                        while index < chars.len() && chars[index].is_ascii_digit() {
                            index += 1;
                        }
                    }
                }
                let text: String = chars[start..index].iter().collect();
                let value = text.parse().map_err(|_| ExpressionError {
                    position: start + 1,
                    message: format!("{text:?} is not a number"),
                })?;
                tokens.push((start + 1, Token::Number(value)));
                continue;
            }
            c if c.is_ascii_alphabetic() || c == '_' => {
                while index < chars.len()
                    && (chars[index].is_ascii_alphanumeric() || chars[index] == '_')
                {
                    index += 1;
                }
                tokens.push((start + 1, Token::Name(chars[start..index].iter().collect())));
                continue;
            }
            '+' => Token::Operator(Operator::Add),
            '-' => Token::Operator(Operator::Subtract),
            '*' => Token::Operator(Operator::Multiply),
            '/' => Token::Operator(Operator::Divide),
            '^' => Token::Operator(Operator::Power),
            '(' => Token::Open,
            ')' => Token::Close,
            ',' => Token::Comma,
            other => {
                return Err(ExpressionError {
                    position: start + 1,
                    message: format!("unexpected {other:?}"),
                })
            }
        };
        tokens.push((start + 1, token));
        index += 1;
    }
    Ok(tokens)
}

/// Deepest nesting of parentheses, unary minus and calls: the parser, evaluation and drop
/// all recurse through it, so a hostile recipe must not be able to exhaust the stack.
const MAX_NESTING: usize = 64;
/// Longest expression text.
const MAX_SOURCE_CHARS: usize = 4096;

/// A precedence-climbing parser over the tokens.
struct Parser<'a> {
    tokens: Vec<(usize, Token)>,
    next: usize,
    columns: &'a [&'a str],
    end: usize,
    /// How deep `expression` is nested now.
    depth: usize,
}

impl Parser<'_> {
    fn peek(&self) -> Option<&Token> {
        self.tokens.get(self.next).map(|(_, token)| token)
    }

    fn position(&self) -> usize {
        self.tokens.get(self.next).map_or(self.end, |(at, _)| *at)
    }

    fn error(&self, message: impl Into<String>) -> ExpressionError {
        ExpressionError {
            position: self.position(),
            message: message.into(),
        }
    }

    fn expression(&mut self, min_precedence: u8) -> Result<Node, ExpressionError> {
        if self.depth == MAX_NESTING {
            return Err(self.error(format!(
                "the expression is nested more than {MAX_NESTING} deep"
            )));
        }
        self.depth += 1;
        let node = self.nested_expression(min_precedence);
        self.depth -= 1;
        node
    }

    fn nested_expression(&mut self, min_precedence: u8) -> Result<Node, ExpressionError> {
        let mut left = self.operand()?;
        while let Some(Token::Operator(operator)) = self.peek().cloned() {
            let (left_power, right_power) = operator.precedence();
            if left_power < min_precedence {
                break;
            }
            self.next += 1;
            let right = self.expression(right_power)?;
            left = Node::Binary(operator, Box::new(left), Box::new(right));
        }
        Ok(left)
    }

    fn operand(&mut self) -> Result<Node, ExpressionError> {
        let position = self.position();
        let Some(token) = self.peek().cloned() else {
            return Err(self.error("the expression ends where a value was expected"));
        };
        self.next += 1;
        match token {
            Token::Number(value) => Ok(Node::Number(value)),
            Token::Operator(Operator::Subtract) => {
                // Unary minus binds tighter than * and /, looser than ^: -x^2 = -(x^2).
                Ok(Node::Negate(Box::new(self.expression(5)?)))
            }
            Token::Open => {
                let inner = self.expression(0)?;
                self.expect_close()?;
                Ok(inner)
            }
            Token::Name(name) if self.peek() == Some(&Token::Open) => self.call(&name, position),
            Token::Name(name) => self.name(&name, position),
            other => Err(ExpressionError {
                position,
                message: format!("expected a value, found {other:?}"),
            }),
        }
    }

    fn expect_close(&mut self) -> Result<(), ExpressionError> {
        if self.peek() == Some(&Token::Close) {
            self.next += 1;
            Ok(())
        } else {
            Err(self.error("expected ')'"))
        }
    }

    fn name(&self, name: &str, position: usize) -> Result<Node, ExpressionError> {
        if name == "pi" {
            return Ok(Node::Number(std::f64::consts::PI));
        }
        self.columns
            .iter()
            .position(|column| *column == name)
            .map(Node::Column)
            .ok_or_else(|| ExpressionError {
                position,
                message: format!(
                    "unknown column {name:?}; the columns are {}",
                    self.columns.join(", ")
                ),
            })
    }

    fn call(&mut self, name: &str, position: usize) -> Result<Node, ExpressionError> {
        let Some((_, function, arity)) = Function::ALL.iter().find(|(n, _, _)| *n == name) else {
            return Err(ExpressionError {
                position,
                message: format!(
                    "unknown function {name:?}; use {}",
                    Function::ALL.map(|(n, _, _)| n).join(", ")
                ),
            });
        };
        self.next += 1; // the opening parenthesis
        let mut arguments = vec![self.expression(0)?];
        while self.peek() == Some(&Token::Comma) {
            self.next += 1;
            arguments.push(self.expression(0)?);
        }
        self.expect_close()?;
        if arguments.len() != *arity {
            return Err(ExpressionError {
                position,
                message: format!("{name} takes {arity} argument(s), got {}", arguments.len()),
            });
        }
        Ok(Node::Call(*function, arguments))
    }
}

impl Expression {
    /// Parses `source` against the names of a row's columns, in row order.
    pub fn parse(source: &str, columns: &[&str]) -> Result<Expression, ExpressionError> {
        let length = source.chars().count();
        if length > MAX_SOURCE_CHARS {
            return Err(ExpressionError {
                position: MAX_SOURCE_CHARS + 1,
                message: format!("the expression is longer than {MAX_SOURCE_CHARS} characters"),
            });
        }
        let mut parser = Parser {
            tokens: tokenize(source)?,
            next: 0,
            columns,
            end: length + 1,
            depth: 0,
        };
        let root = parser.expression(0)?;
        if parser.next < parser.tokens.len() {
            return Err(parser.error("unexpected text after the expression"));
        }
        Ok(Expression {
            source: source.to_string(),
            root,
        })
    }

    /// The text it was parsed from.
    pub fn source(&self) -> &str {
        &self.source
    }

    /// The expression's value for one row (NaN or infinite where the arithmetic is).
    pub fn evaluate(&self, row: &[f64]) -> f64 {
        evaluate(&self.root, row)
    }
}

fn evaluate(node: &Node, row: &[f64]) -> f64 {
    match node {
        Node::Number(value) => *value,
        Node::Column(index) => row[*index],
        Node::Negate(inner) => -evaluate(inner, row),
        Node::Binary(operator, left, right) => {
            operator.apply(evaluate(left, row), evaluate(right, row))
        }
        Node::Call(function, arguments) => {
            let values: Vec<f64> = arguments.iter().map(|a| evaluate(a, row)).collect();
            function.apply(&values)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const COLUMNS: [&str; 3] = ["torque", "rotational_speed", "tool_wear"];

    #[test]
    fn nesting_past_the_limit_is_refused_not_a_stack_overflow() {
        // Each under the length limit: the nesting alone must be refused.
        for deep in [
            format!("{}torque{}", "(".repeat(2_000), ")".repeat(2_000)),
            format!("{}torque", "-".repeat(4_000)),
            format!("{}torque{}", "sqrt(".repeat(600), ")".repeat(600)),
            format!("torque{}", "^torque".repeat(580)),
        ] {
            let error = Expression::parse(&deep, &COLUMNS).unwrap_err();
            assert!(error.message.contains("nested more than 64"), "{error}");
        }
        let too_long = "torque+".repeat(1_000);
        let error = Expression::parse(&too_long, &COLUMNS).unwrap_err();
        assert!(error.message.contains("longer than 4096"), "{error}");
        let at_the_limit = format!("{}torque{}", "(".repeat(63), ")".repeat(63));
        assert_eq!(value(&at_the_limit, &[2.0, 0.0, 0.0]), 2.0);
    }

    #[test]
    fn a_long_flat_expression_parses_and_evaluates() {
        let sum = format!("torque{}", "+torque".repeat(500));
        assert_eq!(value(&sum, &[1.0, 0.0, 0.0]), 501.0);
    }

    fn value(source: &str, row: &[f64]) -> f64 {
        Expression::parse(source, &COLUMNS)
            .unwrap_or_else(|e| panic!("{source}: {e}"))
            .evaluate(row)
    }

    #[test]
    fn mechanical_power_is_torque_times_angular_speed() {
        let power = value(
            "torque * rotational_speed * 2 * pi / 60",
            &[40.0, 1500.0, 0.0],
        );
        assert!((power - 40.0 * 1500.0 * std::f64::consts::TAU / 60.0).abs() < 1e-9);
    }

    #[test]
    fn precedence_associativity_and_unary_minus_follow_arithmetic() {
        let row = [2.0, 3.0, 4.0];
        assert_eq!(value("1 + 2 * 3", &row), 7.0);
        assert_eq!(value("(1 + 2) * 3", &row), 9.0);
        assert_eq!(value("10 - 4 - 3", &row), 3.0);
        assert_eq!(value("2 ^ 3 ^ 2", &row), 512.0);
        assert_eq!(value("-torque ^ 2", &row), -4.0);
        assert_eq!(value("-(torque) * -2", &row), 4.0);
        assert_eq!(value("1e3 / 2.5e-1", &row), 4000.0);
    }

    #[test]
    fn functions_take_their_arguments() {
        let row = [-9.0, 3.0, 4.0];
        assert_eq!(value("abs(torque)", &row), 9.0);
        assert_eq!(value("sqrt(abs(torque))", &row), 3.0);
        assert_eq!(
            value("max(rotational_speed, tool_wear) - min(1, 2)", &row),
            3.0
        );
        assert!((value("ln(exp(2))", &row) - 2.0).abs() < 1e-12);
    }

    #[test]
    fn errors_name_the_character_and_the_problem() {
        let unknown = Expression::parse("torque * speed", &COLUMNS).unwrap_err();
        assert_eq!(unknown.position, 10);
        assert!(
            unknown.message.contains("unknown column \"speed\""),
            "{unknown}"
        );
        let open = Expression::parse("(torque + 1", &COLUMNS).unwrap_err();
        assert!(open.message.contains("')'"), "{open}");
        let trailing = Expression::parse("torque 2", &COLUMNS).unwrap_err();
        assert_eq!(trailing.position, 8);
        let arity = Expression::parse("max(torque)", &COLUMNS).unwrap_err();
        assert!(arity.message.contains("takes 2"), "{arity}");
        let symbol = Expression::parse("torque % 2", &COLUMNS).unwrap_err();
        assert_eq!(
            (symbol.position, symbol.to_string().contains("'%'")),
            (8, true)
        );
        assert!(Expression::parse("", &COLUMNS).is_err());
        assert!(Expression::parse("torque *", &COLUMNS).is_err());
    }

    #[test]
    fn division_by_zero_gives_infinity_rather_than_a_panic() {
        assert!(value("torque / 0", &[1.0, 0.0, 0.0]).is_infinite());
    }
}
