"""Accessibility checks run in the page: axe-core's WCAG 2 A and AA rules, and the contrast of every
visible text measured from computed styles (axe's colour-contrast rule comes back inapplicable inside
Lumino panels, so it cannot be relied on there)."""

from __future__ import annotations

from .conftest import REPO

AXE = REPO / "labextension" / "node_modules" / "axe-core" / "axe.min.js"

AXE_RUN = """async selector => {
    const found = [];
    for (const node of document.querySelectorAll(selector)) {
        const result = await axe.run(node, {runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa']}});
        for (const v of result.violations) {
            if (v.impact === 'serious' || v.impact === 'critical') {
                found.push(`${v.id} (${v.impact}): ${v.help}: ` +
                           v.nodes.slice(0, 4).map(n => `${n.target.join(' ')} ${n.failureSummary}`).join(' | '));
            }
        }
    }
    return found;
}"""

# Text is measured against what is behind it: the backgrounds of its ancestors, composed from the
# first opaque one up; its own colour's alpha and the ancestors' opacity blend it into that. Disabled
# controls are exempt (WCAG 1.4.3), as is text nobody can see.
CONTRAST = """selector => {
    const parse = value => {
        let m = value.match(/rgba?\\(([^)]+)\\)/);
        if (m) {
            const p = m[1].split(/[\\s,\\/]+/).filter(Boolean).map(Number);
            return {r: p[0], g: p[1], b: p[2], a: p.length > 3 ? p[3] : 1};
        }
        m = value.match(/color\\(srgb ([^)]+)\\)/);
        if (m) {
            const p = m[1].split(/[\\s\\/]+/).filter(Boolean).map(Number);
            return {r: p[0] * 255, g: p[1] * 255, b: p[2] * 255, a: p.length > 3 ? p[3] : 1};
        }
        return null;
    };
    const over = (top, bottom) => ({
        r: top.r * top.a + bottom.r * (1 - top.a), g: top.g * top.a + bottom.g * (1 - top.a),
        b: top.b * top.a + bottom.b * (1 - top.a), a: 1});
    const luminance = c => {
        const f = v => { v /= 255; return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); };
        return 0.2126 * f(c.r) + 0.7152 * f(c.g) + 0.0722 * f(c.b);
    };
    const background = element => {
        const layers = [];
        for (let e = element; e; e = e.parentElement) {
            const c = parse(getComputedStyle(e).backgroundColor);
            if (c && c.a > 0) {
                layers.push(c);
                if (c.a >= 1) break;
            }
        }
        let bg = parse(getComputedStyle(document.body).backgroundColor) || {r: 255, g: 255, b: 255, a: 1};
        if (bg.a < 1) bg = over(bg, {r: 255, g: 255, b: 255, a: 1});
        for (const c of layers.reverse()) bg = over(c, bg);
        return bg;
    };
    const opacity = element => {
        let value = 1;
        for (let e = element; e; e = e.parentElement) value *= parseFloat(getComputedStyle(e).opacity);
        return value;
    };
    const failures = [];
    let measured = 0;
    for (const root of document.querySelectorAll(selector)) {
        const walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
        for (let node = walker.nextNode(); node; node = walker.nextNode()) {
            const element = node.parentElement;
            if (!node.textContent.trim() || !element || element.closest('option, title, style, script')) continue;
            if (element.closest('[disabled], [aria-disabled="true"], .lm-mod-disabled')) continue;
            const range = document.createRange();
            range.selectNodeContents(node);
            const box = range.getBoundingClientRect();
            const style = getComputedStyle(element);
            if (!box.width || !box.height || style.visibility === 'hidden') continue;
            const svg = element instanceof SVGElement;
            const fg = parse(svg ? style.fill : style.color);
            if (!fg) continue;
            fg.a *= opacity(element);
            const bg = background(element);
            const shown = over(fg, bg);
            const [l1, l2] = [luminance(shown), luminance(bg)].sort((x, y) => y - x);
            const ratio = (l1 + 0.05) / (l2 + 0.05);
            const size = parseFloat(style.fontSize);
            const bold = parseInt(style.fontWeight, 10) >= 700;
            const large = size >= 24 || (bold && size >= 18.66);
            measured++;
            if (ratio < (large ? 3 : 4.5)) {
                const where = element.className && typeof element.className === 'string' ? element.className.split(' ')[0] : element.tagName;
                failures.push(`${ratio.toFixed(2)}:1 "${node.textContent.trim().slice(0, 40)}" (${where}, ${style.color || style.fill} on rgb(${Math.round(bg.r)},${Math.round(bg.g)},${Math.round(bg.b)}))`);
            }
        }
    }
    return {measured, failures};
}"""


def axe_violations(page, selector: str) -> list[str]:
    """Serious and critical WCAG 2 A/AA violations axe-core finds in each element matching `selector`."""
    if not page.evaluate("() => typeof window.axe !== 'undefined'"):
        page.add_script_tag(path=str(AXE))
    return page.evaluate(AXE_RUN, selector)


def contrast_failures(page, selector: str) -> tuple[int, list[str]]:
    """How many visible texts were measured in the elements matching `selector`, and those under
    4.5:1 (3:1 for large text) against what is behind them."""
    result = page.evaluate(CONTRAST, selector)
    return result["measured"], result["failures"]


def check(page, selector: str, what: str) -> None:
    """No serious or critical axe violation, and enough contrast for every visible text."""
    page.locator(selector).first.wait_for()
    violations = axe_violations(page, selector)
    measured, low = contrast_failures(page, selector)
    assert measured > 0, f"{what}: no visible text was measured"
    assert not violations, f"{what}: axe found\n" + "\n".join(violations)
    assert not low, f"{what}: text under the contrast WCAG AA asks\n" + "\n".join(low)
