"""The Jinja2 sandbox for templates people write (notification overrides), bounded in what one
rendering may cost.

Jinja2's own sandbox stops access to Python's internals but not a template that builds a
100 MB string (``'a' * 10**8``), counts to a billion or recurses forever. Here every way a
template can grow a value or spend time passes a check:

- every loop step, call, filter and arithmetic operation is a *step*; a rendering may take
  ``MAX_STEPS`` of them and ``MAX_SECONDS`` of time (loops are rewritten, after parsing, to
  iterate through :meth:`BoundedSandbox.bounded_iter`);
- no value an expression builds — string, list, joined block — may exceed ``MAX_CHARS``
  (characters, or items counted through nested lists), checked *before* the operation where
  its size is known (``*``, ``+``, ``~``, ``replace``, ``join``, ``indent``, widths in format
  strings) and after it otherwise; numbers past ``MAX_INT_BITS`` bits are refused;
- the output is produced piece by piece and refused past ``MAX_CHARS``;
- methods of strings, lists and dicts are an allow-list of those that cannot grow a value
  beyond these checks; lists and dicts cannot be changed; ``lipsum`` is gone; ``range`` gives
  at most ``MAX_RANGE`` numbers; a blocked attribute is an error, not an empty string.

Any failure — syntax, sandbox, a bound, an error of the template's own making — is raised as
:class:`dingdan.domain.errors.TemplateInvalid` (422 ``TEMPLATE_INVALID``), never anything
else.
"""

from __future__ import annotations

import re
import string
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextvars import ContextVar
from dataclasses import dataclass, field
from functools import wraps
from typing import Any, cast

from jinja2 import Template, nodes, pass_eval_context
from jinja2.exceptions import SecurityError
from jinja2.nodes import EvalContext
from jinja2.runtime import Context, markup_join, str_join
from jinja2.sandbox import ImmutableSandboxedEnvironment

from dingdan.domain.errors import FieldError, TemplateInvalid

MAX_CHARS = 200_000  # one rendered part, or any value; an override's HTML may be 100,000
MAX_STEPS = 100_000  # loop iterations + calls + filters + operations in one rendering
MAX_SECONDS = 1.0  # measured: a legitimate template renders in well under a millisecond
MAX_RANGE = 1_000
MAX_WIDTH = 1_000  # widths and counts passed to filters and methods (center, indent, …)
MAX_INT_BITS = 4_096

# Methods of str (and Markup), list, tuple and dict a template may call: none can grow a value
# past what the arguments' own checks allow. Others (expandtabs, translate, to_bytes…) are
# refused.
SAFE_METHODS = frozenset({
    "capitalize", "casefold", "count", "endswith", "find", "index", "isalnum", "isalpha",
    "isascii", "isdecimal", "isdigit", "isidentifier", "islower", "isnumeric", "isprintable",
    "isspace", "istitle", "isupper", "lower", "lstrip", "partition", "removeprefix",
    "removesuffix", "rfind", "rindex", "rpartition", "rsplit", "rstrip", "split", "splitlines",
    "startswith", "strip", "swapcase", "title", "upper", "striptags", "unescape",
    "get", "items", "keys", "values", "copy",
})
WIDTH_METHODS = frozenset({"center", "ljust", "rjust", "zfill"})
_DATA_TYPES = (str, int, float, list, tuple, dict, set, frozenset, bytes)
# Filters whose numeric arguments are widths or counts.
WIDTH_FILTERS = frozenset({"center", "indent", "wordwrap", "truncate", "batch", "slice",
                           "round"})
_PRINTF = re.compile(r"%(?:\([^)]*\))?[-#0 +]*(\*|\d+)?(?:\.(\*|\d+))?[hlL]?[a-zA-Z%]")


class RenderLimit(Exception):
    """A bound of the sandbox was reached; ``code`` says which."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass
class _Budget:
    deadline: float
    steps: int = 0
    output: int = 0
    extra: dict[str, int] = field(default_factory=dict)

    def tick(self, n: int = 1) -> None:
        self.steps += n
        if self.steps > MAX_STEPS:
            raise RenderLimit("template_too_slow",
                              f"more than {MAX_STEPS} steps (loops, calls, filters)")
        if time.monotonic() > self.deadline:
            raise RenderLimit("template_too_slow", f"took more than {MAX_SECONDS} s")


_budget: ContextVar[_Budget | None] = ContextVar("dingdan_template_budget", default=None)


def _tick(n: int = 1) -> None:
    budget = _budget.get()
    if budget is not None:
        budget.tick(n)


def size_of(value: Any, limit: int = MAX_CHARS) -> int:
    """Characters of strings plus items of containers, counting each reference (a list of
    1,000 copies of one long string is 1,000 long strings when printed); stops past
    ``limit``."""
    total = 0
    stack = [value]
    while stack and total <= limit:
        v = stack.pop()
        if isinstance(v, str | bytes):
            total += len(v)
        elif isinstance(v, dict):
            total += len(v)
            if total <= limit:
                stack.extend(v.keys())
                stack.extend(v.values())
        elif isinstance(v, list | tuple | set | frozenset):
            total += len(v)
            if total <= limit:
                stack.extend(v)
        elif isinstance(v, int) and not isinstance(v, bool) and v.bit_length() > MAX_INT_BITS:
            raise RenderLimit("template_too_large", "a number that large is not allowed")
        else:
            total += 1
    return total


def _check_size(value: Any, what: str = "a value") -> Any:
    if size_of(value) > MAX_CHARS:
        raise RenderLimit("template_too_large", f"{what} longer than {MAX_CHARS} characters")
    return value


def _check_width(value: Any) -> None:
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) > MAX_WIDTH:
        raise RenderLimit("template_too_large", f"a width or count above {MAX_WIDTH}")


def _check_printf(fmt: str) -> None:
    """``'%999999999d' % 1`` would allocate a gigabyte before any check could see it."""
    total = 0
    for width, precision in _PRINTF.findall(fmt):
        if "*" in (width, precision):
            raise RenderLimit("template_too_large", "widths in format strings are numbers")
        total += int(width or 0) + int(precision or 0)
    if total > MAX_CHARS:
        raise RenderLimit("template_too_large", "format widths too large")


def _check_str_format(fmt: str) -> None:
    total = 0
    try:
        for _, _, spec, _ in string.Formatter().parse(fmt):
            if not spec:
                continue
            if "{" in spec:
                raise RenderLimit("template_too_large", "nested format fields")
            total += sum(int(n) for n in re.findall(r"\d+", spec))
    except ValueError as exc:
        raise RenderLimit("template_error", str(exc)) from None
    if total > MAX_CHARS:
        raise RenderLimit("template_too_large", "format widths too large")


def _bounded_range(*args: int) -> range:
    for a in args:
        if not isinstance(a, int) or abs(a) > 10**12:
            raise RenderLimit("template_too_large", "range() takes modest whole numbers")
    numbers = range(*args)
    if len(numbers) > MAX_RANGE:
        raise RenderLimit("template_too_large", f"range() of more than {MAX_RANGE} numbers")
    return numbers


def _guard_filter(name: str, fn: Callable[..., Any]) -> Callable[..., Any]:
    @wraps(fn)
    def guarded(*args: Any, **kwargs: Any) -> Any:
        _tick()
        values = [a for a in (*args, *kwargs.values())
                  if not isinstance(a, Context | EvalContext)]
        for v in values:
            _check_size(v, f"the input of {name}")
        if name in WIDTH_FILTERS:
            for v in values[1:]:
                _check_width(v)
        subject = values[0] if values and isinstance(values[0], str) else None
        if name == "format" and subject is not None:
            _check_printf(subject)
        if name == "indent" and subject is not None:
            width = values[1] if len(values) > 1 and isinstance(values[1], int) else 4
            if (subject.count("\n") + 1) * max(width, 0) + len(subject) > MAX_CHARS:
                raise RenderLimit("template_too_large", "indent would be too long")
        if name == "replace" and len(values) >= 3:
            _check_replace(values[0], values[1], values[2])
        if name == "join" and values:
            items = list(values[0])
            sep = values[1] if len(values) > 1 and isinstance(values[1], str) else ""
            if len(sep) * len(items) + size_of(items) > MAX_CHARS:
                raise RenderLimit("template_too_large", "the joined text is too long")
            at = 1 if args and isinstance(args[0], EvalContext) else 0
            args = (*args[:at], items, *args[at + 1:])
        return _check_size(fn(*args, **kwargs), f"the output of {name}")
    return guarded


def _check_replace(s: Any, old: Any, new: Any) -> None:
    if isinstance(s, str) and isinstance(old, str) and isinstance(new, str):
        grows = s.count(old) * max(len(new) - len(old), 0)
        if len(s) + grows > MAX_CHARS:
            raise RenderLimit("template_too_large", "replace would be too long")


class _BoundLoops:
    """Rewrites a parsed template: every ``for`` iterates through ``bounded_iter`` and every
    ``~`` concatenation goes through ``bounded_concat`` (neither can be shadowed: they are
    attributes of the environment, not names)."""

    def __init__(self, env: BoundedSandbox) -> None:
        self.env = env

    def __call__(self, tree: nodes.Template) -> nodes.Template:
        for name in tree.find_all(nodes.Name):
            if name.name.startswith("_"):
                raise RenderLimit("template_error", "names starting with _ are reserved")
        for loop in tree.find_all(nodes.For):
            loop.iter = self._call("bounded_iter", [cast(nodes.Expr, loop.iter)], loop.lineno)
        for concat in list(tree.find_all(nodes.Concat)):
            parts = nodes.List(list(concat.nodes), lineno=concat.lineno)
            call = self._call("bounded_concat", [parts], concat.lineno)
            concat.nodes = [call]
        return tree

    def _call(self, attr: str, args: list[nodes.Expr], lineno: int) -> nodes.Call:
        call = nodes.Call(nodes.EnvironmentAttribute(attr, lineno=lineno), args, [], None, None,
                          lineno=lineno)
        call.set_environment(self.env)
        return call


class BoundedSandbox(ImmutableSandboxedEnvironment):
    """Jinja2's immutable sandbox with the bounds above; :meth:`render` is the one way in."""

    intercepted_binops = frozenset({"*", "**", "+", "%", "//", "/", "-"})
    intercepted_unops = frozenset({"-", "+"})

    def __init__(self, **options: Any) -> None:
        super().__init__(finalize=self._finalize, **options)
        self.globals.pop("lipsum", None)
        self.globals["range"] = _bounded_range
        self.filters = {name: _guard_filter(name, fn) for name, fn in self.filters.items()}
        self._bound = _BoundLoops(self)

    # -- compiling and rendering ------------------------------------------------------------

    def compile_checked(self, source: str, part: str) -> Template:
        """Compile ``source`` (the ``part`` of a message: subject, text or html), or raise
        TemplateInvalid naming the part and the line."""
        try:
            tree = self._bound(self.parse(source))
            return self.from_string(tree)
        except RenderLimit as exc:
            raise _invalid(part, exc.code, exc.message) from None
        except Exception as exc:
            line = getattr(exc, "lineno", None)
            where = f"line {line}: " if line else ""
            message = getattr(exc, "message", None) or str(exc)
            raise _invalid(part, "template_syntax", f"{where}{message}"[:300]) from None

    def render_checked(self, template: Template, context: Mapping[str, Any], part: str) -> str:
        """Render within the bounds: the text, or TemplateInvalid saying which bound or
        error stopped it."""
        budget = _Budget(time.monotonic() + MAX_SECONDS)
        token = _budget.set(budget)
        pieces: list[str] = []
        chunks: Iterator[str] | None = None
        try:
            chunks = template.generate(**context)
            for chunk in chunks:
                budget.output += len(chunk)
                if budget.output > MAX_CHARS:
                    raise RenderLimit("template_too_large",
                                      f"the message is longer than {MAX_CHARS} characters")
                budget.tick()
                pieces.append(chunk)
        except RenderLimit as exc:
            raise _invalid(part, exc.code, exc.message) from None
        except SecurityError as exc:
            raise _invalid(part, "template_unsafe", str(exc)[:300]) from None
        except RecursionError:
            raise _invalid(part, "template_too_slow", "recursion too deep") from None
        except Exception as exc:
            raise _invalid(part, "template_error", f"{type(exc).__name__}: {exc}"[:300]) \
                from None
        finally:
            if chunks is not None and hasattr(chunks, "close"):
                chunks.close()
            _budget.reset(token)
        return "".join(pieces)

    # -- the hooks the compiled template calls ----------------------------------------------

    def bounded_iter(self, iterable: Iterable[Any]) -> Iterator[Any]:
        for item in iterable:
            _tick()
            yield item

    @property
    def bounded_concat(self) -> Callable[..., str]:
        @pass_eval_context
        def concat(eval_ctx: EvalContext, parts: list[Any]) -> str:
            _check_size(parts, "the joined text")
            joined: str = (markup_join if eval_ctx.autoescape else str_join)(parts)
            return joined
        return concat

    def concat(self, parts: Iterable[str]) -> str:
        """Joins captured blocks and macro output (``environment.concat`` in compiled code)."""
        total = 0
        out = []
        for part in parts:
            total += len(part)
            if total > MAX_CHARS:
                raise RenderLimit("template_too_large",
                                  f"a block longer than {MAX_CHARS} characters")
            out.append(part)
        return "".join(out)

    def _finalize(self, value: Any) -> Any:
        """Every ``{{ … }}`` before it becomes text: a list of long strings is long text."""
        return _check_size(value, "a printed value")

    def call(__self, __context: Context, __obj: Any, *args: Any,
             **kwargs: Any) -> Any:
        _tick()
        owner = getattr(__obj, "__self__", None)
        name = getattr(__obj, "__name__", "")
        if isinstance(owner, _DATA_TYPES):  # Markup is a str
            if name in WIDTH_METHODS:
                for a in args:
                    _check_width(a)
            elif name == "replace" and len(args) >= 2:
                _check_replace(owner, args[0], args[1])
            elif name == "join" and isinstance(owner, str) and args:
                items = list(args[0])
                if len(owner) * len(items) + size_of(items) > MAX_CHARS:
                    raise RenderLimit("template_too_large", "the joined text is too long")
                args = (items, *args[1:])
            elif name not in SAFE_METHODS:
                raise SecurityError(f"{type(owner).__name__}.{name}() is not allowed here")
        for a in (*args, *kwargs.values()):
            _check_size(a, "an argument")
        result = super().call(__context, __obj, *args, **kwargs)
        return _check_size(result, "a result")

    def call_binop(self, context: Context, operator: str, left: Any, right: Any) -> Any:
        _tick()
        _check_binop(operator, left, right)
        return _check_size(super().call_binop(context, operator, left, right), "a result")

    def call_unop(self, context: Context, operator: str, arg: Any) -> Any:
        _tick()
        return super().call_unop(context, operator, arg)

    def wrap_str_format(self, value: Any) -> Callable[..., str] | None:
        wrapper = super().wrap_str_format(value)
        if wrapper is not None:
            _check_str_format(str(value.__self__))
        return wrapper

    def unsafe_undefined(self, obj: Any, attribute: str) -> Any:
        """A blocked attribute is an error at once, not a blank (Jinja2's default)."""
        raise SecurityError(f"access to attribute {attribute!r} of "
                            f"{type(obj).__name__!r} object is unsafe")


def _check_binop(operator: str, left: Any, right: Any) -> None:
    """Refuse an operation whose result would be too large before Python builds it."""
    too_large = False
    numbers = isinstance(left, int | float) and isinstance(right, int | float)
    if operator == "**" and numbers and isinstance(right, int) and right > 0:
        too_large = right * max(abs(int(left)).bit_length(), 1) > MAX_INT_BITS
    elif operator == "*" and numbers:
        too_large = isinstance(left, int) and isinstance(right, int) \
            and left.bit_length() + right.bit_length() > MAX_INT_BITS
    elif operator == "*":
        for seq, n in ((left, right), (right, left)):
            if isinstance(seq, str | list | tuple) and isinstance(n, int):
                too_large = too_large or size_of(seq) * max(n, 0) > MAX_CHARS
    elif operator == "+" and not numbers:
        too_large = size_of(left) + size_of(right) > MAX_CHARS
    elif operator == "%" and isinstance(left, str):
        _check_printf(left)
        too_large = size_of(left) + size_of(right) > MAX_CHARS
    if too_large:
        raise RenderLimit("template_too_large", f"a value larger than {MAX_CHARS} characters "
                          f"or {MAX_INT_BITS} bits")


def _invalid(part: str, code: str, message: str) -> TemplateInvalid:
    return TemplateInvalid({"reason": message}, [FieldError(part, code, message)])
