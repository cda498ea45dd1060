"""Build hook only (metadata lives in setup.cfg): the gettext catalogs are compiled from
core/locale/*/LC_MESSAGES/potentiel.po to .mo with Babel when the package is built, so the
wheel ships them compiled (a checkout reads the .po through Babel instead)."""

from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py


class BuildWithCatalogs(build_py):
    def run(self):
        super().run()
        from babel.messages.mofile import write_mo
        from babel.messages.pofile import read_po

        for po in Path(self.build_lib, "potentiel", "locale").glob("*/LC_MESSAGES/*.po"):
            with open(po, "rb") as fh:
                catalog = read_po(fh, locale=po.parent.parent.name)
            with open(po.with_suffix(".mo"), "wb") as fh:
                write_mo(fh, catalog)


setup(cmdclass={"build_py": BuildWithCatalogs})
