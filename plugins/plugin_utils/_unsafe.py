# -*- coding: utf-8 -*-
# Copyright: (c) 2026, secops.defender contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Private to secops.defender: what the API returns is marked unsafe before Ansible sees it.

Device names, tags and alert text are written by whoever controls a device. ansible-core 2.19 and later treat what
a plugin returns as untrusted already; 2.16 to 2.18 template any string that is not marked, so an inventory variable
or a lookup result holding "{{ lookup('pipe', ...) }}" would run on the controller. wrap_var marks strings, keys and
nested values on every supported release (on 2.19 and later it only removes trust, which they never had).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible.utils.unsafe_proxy import wrap_var


def make_unsafe(value):
    """`value` with every string in it, keys included, marked unsafe: never templated, on any release."""
    return wrap_var(value)
