"""Contact details: email addresses, phone numbers, birth dates, US states, ZIP codes, time zones.

Scalar functions check one value (forms) and raise ValidationError naming the field; the imports
use the vectorised versions in core.imports.cleaning, which follow the same rules.
"""

from __future__ import annotations

import phonenumbers
from email_validator import EmailNotValidError, validate_email
from phonenumbers import timezone as phone_zones

from core.customers import zip_codes
from core.errors import ValidationError

DEFAULT_PHONE_REGION = "US"

STATE_NAMES = {
    "AL": "Alabama",
    "AK": "Alaska",
    "AZ": "Arizona",
    "AR": "Arkansas",
    "CA": "California",
    "CO": "Colorado",
    "CT": "Connecticut",
    "DE": "Delaware",
    "DC": "District of Columbia",
    "FL": "Florida",
    "GA": "Georgia",
    "HI": "Hawaii",
    "ID": "Idaho",
    "IL": "Illinois",
    "IN": "Indiana",
    "IA": "Iowa",
    "KS": "Kansas",
    "KY": "Kentucky",
    "LA": "Louisiana",
    "ME": "Maine",
    "MD": "Maryland",
    "MA": "Massachusetts",
    "MI": "Michigan",
    "MN": "Minnesota",
    "MS": "Mississippi",
    "MO": "Missouri",
    "MT": "Montana",
    "NE": "Nebraska",
    "NV": "Nevada",
    "NH": "New Hampshire",
    "NJ": "New Jersey",
    "NM": "New Mexico",
    "NY": "New York",
    "NC": "North Carolina",
    "ND": "North Dakota",
    "OH": "Ohio",
    "OK": "Oklahoma",
    "OR": "Oregon",
    "PA": "Pennsylvania",
    "PR": "Puerto Rico",
    "RI": "Rhode Island",
    "SC": "South Carolina",
    "SD": "South Dakota",
    "TN": "Tennessee",
    "TX": "Texas",
    "UT": "Utah",
    "VT": "Vermont",
    "VA": "Virginia",
    "WA": "Washington",
    "WV": "West Virginia",
    "WI": "Wisconsin",
    "WY": "Wyoming",
}
STATE_CODES = {name.upper(): code for code, name in STATE_NAMES.items()}

EASTERN, CENTRAL, MOUNTAIN, PACIFIC = (
    "America/New_York",
    "America/Chicago",
    "America/Denver",
    "America/Los_Angeles",
)
STATE_ZONES = {
    **dict.fromkeys(
        [
            "CT",
            "DE",
            "DC",
            "FL",
            "GA",
            "KY",
            "ME",
            "MD",
            "MA",
            "MI",
            "NH",
            "NJ",
            "NY",
            "NC",
            "OH",
            "PA",
            "RI",
            "SC",
            "VT",
            "VA",
            "WV",
        ],
        EASTERN,
    ),
    **dict.fromkeys(
        [
            "AL",
            "AR",
            "IL",
            "IA",
            "KS",
            "LA",
            "MN",
            "MS",
            "MO",
            "NE",
            "ND",
            "OK",
            "SD",
            "TN",
            "TX",
            "WI",
        ],
        CENTRAL,
    ),
    **dict.fromkeys(["CO", "MT", "NM", "UT", "WY"], MOUNTAIN),
    **dict.fromkeys(["CA", "NV", "OR", "WA"], PACIFIC),
    "AZ": "America/Phoenix",
    "ID": "America/Boise",
    "IN": "America/Indiana/Indianapolis",
    "HI": "Pacific/Honolulu",
    "AK": "America/Anchorage",
    "PR": "America/Puerto_Rico",
}
"""Each state's main time zone; ZIP_ZONE_EXCEPTIONS covers the parts of split states."""

ZIP_ZONE_EXCEPTIONS = {
    **dict.fromkeys(("324", "325"), CENTRAL),  # Florida panhandle
    **dict.fromkeys(("373", "374", "376", "377", "378", "379"), EASTERN),  # East Tennessee
    **dict.fromkeys(("420", "421", "422", "423", "424"), CENTRAL),  # Western Kentucky
    **dict.fromkeys(("463", "464", "476", "477"), CENTRAL),  # NW and SW Indiana
    **dict.fromkeys(("577",), MOUNTAIN),  # Western South Dakota
    **dict.fromkeys(("691", "693"), MOUNTAIN),  # Western Nebraska
    **dict.fromkeys(("798", "799", "885"), MOUNTAIN),  # El Paso
    **dict.fromkeys(("835", "836", "837", "838"), PACIFIC),  # Northern Idaho
    "979": "America/Boise",  # Eastern Oregon
}

ZIP3_STATES = (
    # (first ZIP3, last ZIP3, state), from the USPS prefix allocation.
    (5, 5, "NY"),
    (6, 9, "PR"),
    (10, 27, "MA"),
    (28, 29, "RI"),
    (30, 38, "NH"),
    (39, 49, "ME"),
    (50, 54, "VT"),
    (55, 55, "MA"),
    (56, 59, "VT"),
    (60, 69, "CT"),
    (70, 89, "NJ"),
    (100, 149, "NY"),
    (150, 196, "PA"),
    (197, 199, "DE"),
    (200, 200, "DC"),
    (201, 201, "VA"),
    (202, 205, "DC"),
    (206, 219, "MD"),
    (220, 246, "VA"),
    (247, 268, "WV"),
    (270, 289, "NC"),
    (290, 299, "SC"),
    (300, 319, "GA"),
    (320, 349, "FL"),
    (350, 369, "AL"),
    (370, 385, "TN"),
    (386, 397, "MS"),
    (398, 399, "GA"),
    (400, 427, "KY"),
    (430, 459, "OH"),
    (460, 479, "IN"),
    (480, 499, "MI"),
    (500, 528, "IA"),
    (530, 549, "WI"),
    (550, 567, "MN"),
    (569, 569, "DC"),
    (570, 577, "SD"),
    (580, 588, "ND"),
    (590, 599, "MT"),
    (600, 629, "IL"),
    (630, 658, "MO"),
    (660, 679, "KS"),
    (680, 693, "NE"),
    (700, 714, "LA"),
    (716, 729, "AR"),
    (730, 749, "OK"),
    (750, 799, "TX"),
    (800, 816, "CO"),
    (820, 831, "WY"),
    (832, 838, "ID"),
    (840, 847, "UT"),
    (850, 865, "AZ"),
    (870, 884, "NM"),
    (885, 885, "TX"),
    (889, 898, "NV"),
    (900, 961, "CA"),
    (967, 968, "HI"),
    (970, 979, "OR"),
    (980, 994, "WA"),
    (995, 999, "AK"),
)
ZIP3_STATE = {
    f"{prefix:03d}": state
    for first, last, state in ZIP3_STATES
    for prefix in range(first, last + 1)
}


def normalize_email(value: str) -> str:
    """A valid address, lowercased. Raises ValidationError(field="email")."""
    try:
        return validate_email(value.strip(), check_deliverability=False).normalized.lower()
    except EmailNotValidError as exc:
        raise ValidationError(
            f"'{value}' is not a valid email address: {exc}", field="email"
        ) from exc


def normalize_phone(value: str, region: str = DEFAULT_PHONE_REGION) -> str:
    """E.164 (+13125550123). Raises ValidationError(field="phone")."""
    try:
        number = phonenumbers.parse(value, region)
    except phonenumbers.NumberParseException as exc:
        raise ValidationError(f"'{value}' is not a phone number: {exc}", field="phone") from exc
    if not phonenumbers.is_valid_number(number):
        raise ValidationError(f"'{value}' is not a valid phone number", field="phone")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def normalize_state(value: str) -> str:
    """'Illinois', 'il' or 'IL' → 'IL'; '' stays ''. Raises ValidationError(field="state")."""
    cleaned = value.strip().upper()
    if not cleaned:
        return ""
    if cleaned in STATE_NAMES:
        return cleaned
    if cleaned in STATE_CODES:
        return STATE_CODES[cleaned]
    raise ValidationError(f"'{value}' is not a US state", field="state")


def normalize_zip(value: str) -> str:
    """'60622-1234' → '60622'; '2134' (a spreadsheet ate the zero) → '02134' when that is a real
    ZIP code. Raises ValidationError."""
    digits = value.strip().split("-")[0].replace(" ", "")
    if not digits:
        return ""
    if not digits.isdigit() or len(digits) > 5:
        raise ValidationError(f"'{value}' is not a US ZIP code", field="zip")
    if len(digits) < 5 and zip_codes.place_of(digits.zfill(5)) is None:
        raise ValidationError(f"'{value}' is not a 5-digit US ZIP code", field="zip")
    return digits.zfill(5)


def timezone_for(
    *, zip_code: str | None = "", state: str | None = "", phone: str | None = None
) -> str | None:
    """The IANA zone for an address (ZIP, else state), else for a phone's area code."""
    place = zip_codes.place_of(zip_code)
    if place and place.timezone:
        return place.timezone
    prefix = (zip_code or "")[:3]
    if prefix in ZIP_ZONE_EXCEPTIONS:
        return ZIP_ZONE_EXCEPTIONS[prefix]
    state = state or ZIP3_STATE.get(prefix, "")
    if state in STATE_ZONES:
        return STATE_ZONES[state]
    if phone:
        return phone_timezone(phone)
    return None


def phone_timezone(phone: str) -> str | None:
    """The zone of a phone number's area code, when it has exactly one."""
    try:
        zones = phone_zones.time_zones_for_number(phonenumbers.parse(phone, None))
    except phonenumbers.NumberParseException:
        return None
    return zones[0] if len(zones) == 1 and "/" in zones[0] else None
