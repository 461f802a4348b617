"""rig.pyi describes the module as built: same classes, same members."""

import ast
import pathlib

import rig

STUBS = pathlib.Path(__file__).parent.parent / "rig.pyi"


def stub_classes():
    tree = ast.parse(STUBS.read_text())
    classes = {}
    for node in tree.body:
        if isinstance(node, ast.ClassDef):
            classes[node.name] = {
                item.name
                for item in node.body
                if isinstance(item, ast.FunctionDef) and not item.name.startswith("__")
            }
    return classes


def test_every_public_class_of_the_module_is_in_the_stubs():
    runtime = {name for name in dir(rig) if not name.startswith("_") and isinstance(getattr(rig, name), type)}
    assert runtime == set(stub_classes())


def test_every_stubbed_member_exists_and_every_public_member_is_stubbed():
    for name, members in stub_classes().items():
        cls = getattr(rig, name)
        if issubclass(cls, BaseException):
            continue  # attributes set per instance (status, response)
        runtime = {m for m in vars(cls) if not m.startswith("_")}
        assert members == runtime, name
