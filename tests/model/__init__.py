"""Plain reference models of the AWS rules, for model-based tests.

Written for clarity, not speed: every rule is a few lines over lists and dicts, with the AWS page
it comes from. The models never import ``decoupling``; the tests run them beside the real
objects and compare.
"""
