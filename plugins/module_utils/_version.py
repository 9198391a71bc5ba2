# -*- coding: utf-8 -*-
# Copyright: (c) 2026, secops.defender contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Private to secops.defender: the collection's version, where code can read it (a module runs without galaxy.yml).
tests/unit holds it equal to galaxy.yml's, so a release changes galaxy.yml and this line together."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

COLLECTION_VERSION = "0.2.0"
USER_AGENT = "secops.defender/%s (Ansible collection)" % COLLECTION_VERSION
