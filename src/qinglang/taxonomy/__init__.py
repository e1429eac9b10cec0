"""The domain vocabulary of Qinglang, loaded from the TOML files beside this module.

Categories, departments and compliance violations are data, not constants scattered in code:
every other package asks this one (`get_taxonomy()`) for them.
"""

from qinglang.taxonomy.model import Category, Department, Taxonomy, Violation, get_taxonomy

__all__ = ["Category", "Department", "Taxonomy", "Violation", "get_taxonomy"]
