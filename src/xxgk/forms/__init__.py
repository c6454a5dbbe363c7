"""The form definitions: the model, loading and the schema, built-in forms, rules, layout, labels, identity."""
