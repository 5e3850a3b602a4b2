//! YAML text to a spanned node tree, with budgets: input size, nesting depth and alias expansion.
