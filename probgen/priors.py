"""Prior specifications shared by both backends.

Configurable models take priors as short strings such as ``"normal(0, 10)"``,
``"half_cauchy(2.5)"``, ``"student_t(3, 8, 10)"`` or ``"flat"``. A
:class:`Prior` parses one and builds the same distribution in NumPyro and in
PyMC, written out by hand for each (the tests compare their log densities).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# name -> (parameter names, support)
_FAMILIES: dict[str, tuple[tuple[str, ...], str]] = {
    "flat": ((), "real"),
    "half_flat": ((), "positive"),
    "normal": (("mu", "sigma"), "real"),
    "student_t": (("nu", "mu", "sigma"), "real"),
    "cauchy": (("mu", "sigma"), "real"),
    "half_normal": (("sigma",), "positive"),
    "half_cauchy": (("beta",), "positive"),
    "half_student_t": (("nu", "sigma"), "positive"),
    "exponential": (("lam",), "positive"),
    "gamma": (("alpha", "beta"), "positive"),
    "lognormal": (("mu", "sigma"), "positive"),
}
_POSITIVE_PARAMS = {"sigma", "beta", "nu", "lam", "alpha"}
_SPEC = re.compile(r"^\s*([a-z_]+)\s*(?:\(\s*([^()]*)\s*\))?\s*$")


@dataclass(frozen=True)
class Prior:
    """A parsed prior: family name and numeric parameters."""

    family: str
    params: tuple[float, ...] = ()

    @classmethod
    def parse(cls, spec: str | Prior, *, name: str = "prior") -> Prior:
        """Parse ``"family(a, b, ...)"``; raise ValueError naming ``name`` if invalid."""
        if isinstance(spec, Prior):
            return spec
        if not isinstance(spec, str):
            raise ValueError(f"{name} must be a prior string like 'normal(0, 10)', got {spec!r}")
        m = _SPEC.match(spec)
        if not m or m.group(1) not in _FAMILIES:
            raise ValueError(
                f"{name}={spec!r} is not a prior probgen knows; use one of "
                + ", ".join(f"{k}({', '.join(v[0])})" if v[0] else k for k, v in _FAMILIES.items())
            )
        family = m.group(1)
        names, _ = _FAMILIES[family]
        args = [a for a in (m.group(2) or "").split(",") if a.strip()]
        if len(args) != len(names):
            raise ValueError(
                f"{name}={spec!r}: {family} takes {len(names)} parameter(s) "
                f"({', '.join(names) or 'none'}), got {len(args)}"
            )
        try:
            values = tuple(float(a) for a in args)
        except ValueError:
            raise ValueError(f"{name}={spec!r}: parameters must be numbers") from None
        for pname, v in zip(names, values, strict=True):
            if pname in _POSITIVE_PARAMS and not v > 0:
                raise ValueError(f"{name}={spec!r}: {pname} must be > 0, got {v}")
        return cls(family, values)

    @property
    def support(self) -> str:
        return _FAMILIES[self.family][1]

    @property
    def is_proper(self) -> bool:
        return self.family not in ("flat", "half_flat")

    def __str__(self) -> str:
        if not self.params:
            return self.family
        return f"{self.family}({', '.join(f'{p:g}' for p in self.params)})"

    # ---------------------------------------------------------------- NumPyro
    def numpyro(self):
        """The NumPyro distribution (scalar batch shape; wrap in plates for vectors)."""
        from numpyro import distributions as dist
        from numpyro.distributions import constraints

        p = self.params
        match self.family:
            case "flat":
                return dist.ImproperUniform(constraints.real, (), ())
            case "half_flat":
                return dist.ImproperUniform(constraints.positive, (), ())
            case "normal":
                return dist.Normal(p[0], p[1])
            case "student_t":
                return dist.StudentT(p[0], p[1], p[2])
            case "cauchy":
                return dist.Cauchy(p[0], p[1])
            case "half_normal":
                return dist.HalfNormal(p[0])
            case "half_cauchy":
                return dist.HalfCauchy(p[0])
            case "half_student_t":
                # |T| for T ~ Student-t(nu, 0, sigma): density 2 t(x), x > 0
                return dist.FoldedDistribution(dist.StudentT(p[0], 0.0, p[1]))
            case "exponential":
                return dist.Exponential(p[0])
            case "gamma":
                return dist.Gamma(p[0], p[1])
            case "lognormal":
                return dist.LogNormal(p[0], p[1])
        raise AssertionError(self.family)

    # ------------------------------------------------------------------- PyMC
    def pymc(self, name: str, **kwargs):
        """Create the PyMC random variable ``name`` (inside a model context)."""
        import pymc as pm

        p = self.params
        match self.family:
            case "flat":
                return pm.Flat(name, **kwargs)
            case "half_flat":
                return pm.HalfFlat(name, **kwargs)
            case "normal":
                return pm.Normal(name, mu=p[0], sigma=p[1], **kwargs)
            case "student_t":
                return pm.StudentT(name, nu=p[0], mu=p[1], sigma=p[2], **kwargs)
            case "cauchy":
                return pm.Cauchy(name, alpha=p[0], beta=p[1], **kwargs)
            case "half_normal":
                return pm.HalfNormal(name, sigma=p[0], **kwargs)
            case "half_cauchy":
                return pm.HalfCauchy(name, beta=p[0], **kwargs)
            case "half_student_t":
                return pm.HalfStudentT(name, nu=p[0], sigma=p[1], **kwargs)
            case "exponential":
                return pm.Exponential(name, lam=p[0], **kwargs)
            case "gamma":
                return pm.Gamma(name, alpha=p[0], beta=p[1], **kwargs)
            case "lognormal":
                return pm.LogNormal(name, mu=p[0], sigma=p[1], **kwargs)
        raise AssertionError(self.family)


def parse_prior(spec: str | Prior, *, name: str, support: str | None = None) -> Prior:
    """Parse a prior and check its support (``"positive"`` for scales)."""
    prior = Prior.parse(spec, name=name)
    if support == "positive" and prior.support != "positive":
        raise ValueError(
            f"{name}={spec!r}: this parameter is positive, so its prior must be one of "
            + ", ".join(k for k, v in _FAMILIES.items() if v[1] == "positive")
        )
    return prior
