import { describe, expect, it } from 'vitest';
import { TemplateError, TemplateSet } from '../../src/sim/gitops/go-template.js';

// Expected outputs follow Go's text/template documentation and Sprig's function reference.
function render(source: string, data: unknown = {}): string {
  const set = new TemplateSet();
  set.add('t', source);
  return set.execute('t', data);
}

describe('go-template (the subset the chart uses)', () => {
  it.each<[string, string, unknown, string]>([
    ['trim markers eat whitespace on their side', 'a  {{- "b" -}}  c', {}, 'abc'],
    ['a field', '{{ .a.b }}', { a: { b: 'x' } }, 'x'],
    ['a missing key prints nothing', '[{{ .a.missing }}]', { a: {} }, '[]'],
    ['if / else if / else', '{{ if .x }}x{{ else if .y }}y{{ else }}z{{ end }}', { y: 1 }, 'y'],
    ['empty values are false', '{{ if .l }}t{{ else }}f{{ end }}{{ if .m }}t{{ else }}f{{ end }}{{ if .z }}t{{ else }}f{{ end }}', { l: [], m: {}, z: 0 }, 'fff'],
    ['with rebinds the dot', '{{ with .a }}{{ .b }}{{ end }}', { a: { b: 'in' } }, 'in'],
    ['range over a map walks sorted keys', '{{ range $k, $v := .m }}{{ $k }}={{ $v }};{{ end }}', { m: { b: 2, a: 1 } }, 'a=1;b=2;'],
    ['range over a list with $ reaching the root', '{{ range .l }}{{ . }}{{ $.s }}{{ end }}', { l: [1, 2], s: '-' }, '1-2-'],
    ['range else', '{{ range .l }}x{{ else }}none{{ end }}', { l: [] }, 'none'],
    ['pipelines pass the value last', '{{ "abc" | trunc 2 | quote }}', {}, '"ab"'],
    ['default', '{{ .a | default "d" }}/{{ .b | default "d" }}', { a: '', b: 'b' }, 'd/b'],
    ["nindent", "k:{{ .s | nindent 2 }}", { s: "a: 1\nb: 2" }, "k:\n  a: 1\n  b: 2"],
    ['toYaml sorts keys', '{{ toYaml .m }}', { m: { b: 1, a: [1] } }, 'a:\n  - 1\nb: 1'],
    ['and/or/not/eq/gt', '{{ and 1 "x" }} {{ or 0 "" "y" }} {{ not "" }} {{ eq 1 2 1 }} {{ gt 3 2 }}', {}, 'x y true true true'],
    ['printf and print', '{{ printf "%s-%s" "a" "b" }} {{ print "a" "b" }}', {}, 'a-b ab'],
    ['variables are scoped to their block', '{{ $x := "out" }}{{ if true }}{{ $x := "in" }}{{ $x }}{{ end }}{{ $x }}', {}, 'inout'],
    ['define and include', '{{- define "n" }}<{{ . }}>{{ end -}}{{ include "n" "v" }}', {}, '<v>'],
    ['comments', 'a{{/* nothing */}}b', {}, 'ab'],
    ['parenthesised pipelines', '{{ gt (int "3") 1 }}', {}, 'true'],
    ['trimSuffix and contains', '{{ trimSuffix "-" "a-" }} {{ contains "b" "abc" }}', {}, 'a true'],
  ])('%s', (_name, source, data, expected) => {
    expect(render(source, data)).toBe(expected);
  });

  it.each([
    ['an unknown function', '{{ frobnicate 1 }}', /function "frobnicate" not defined/],
    ['a field of a missing map', '{{ .a.b.c }}', /nil pointer evaluating interface \{\}\.c/],
    ['an unclosed block', '{{ if .a }}x', /missing \{\{end\}\}/],
    ['a stray end', 'x{{ end }}', /unexpected \{\{end\}\}/],
    ['required on an empty value', '{{ required "x is required" .x }}', /x is required/],
    ['printing a map', '{{ .a }}', /cannot print a map/],
  ])('refuses %s', (_name, source, message) => {
    expect(() => render(source, { a: { b: undefined } })).toThrow(TemplateError);
    expect(() => render(source, { a: { b: undefined } })).toThrow(message);
  });
});
