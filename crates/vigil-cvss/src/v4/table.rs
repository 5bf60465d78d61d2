//! The CVSS v4.0 specification's normative data, in tenths: the score of
//! every MacroVector (section 8.2, "Scores of the MacroVectors"), the
//! highest-severity vectors of each equivalence class and the class depths
//! ("max severity" distances) used to interpolate within a MacroVector.
//!
//! Levels (distances in 0.1 steps, 0 = most severe): AV N0 A1 L2 P3, PR N0
//! L1 H2, UI N0 P1 A2, AC L0 H1, AT N0 P1, VC/VI/VA H0 L1 N2, SC H1 L2 N3,
//! SI/SA S0 H1 L2 N3, CR/IR/AR H0 M1 L2.

/// A MacroVector that the specification does not define (EQ3 = 2 with
/// EQ6 = 0 cannot occur).
pub(crate) const NA: u8 = u8::MAX;

/// MacroVector scores in tenths, indexed by
/// `((((eq1·2 + eq2)·3 + eq3)·3 + eq4)·3 + eq5)·2 + eq6`. Each row is one
/// `eq1 eq2 eq3 eq4` prefix; its six columns are `eq5 eq6` = 00 01 10 11
/// 20 21.
#[rustfmt::skip]
pub(crate) static SCORES: [u8; 324] = [
    /* 0000.. */ 100,  99,  98,  95,  95,  92,
    /* 0001.. */ 100,  96,  93,  87,  91,  81,
    /* 0002.. */  93,  90,  89,  80,  81,  68,
    /* 0010.. */  98,  95,  95,  92,  90,  84,
    /* 0011.. */  93,  92,  89,  81,  81,  65,
    /* 0012.. */  88,  80,  78,  70,  69,  48,
    /* 0020.. */  NA,  92,  NA,  82,  NA,  72,
    /* 0021.. */  NA,  79,  NA,  69,  NA,  50,
    /* 0022.. */  NA,  69,  NA,  55,  NA,  27,
    /* 0100.. */  99,  97,  95,  92,  92,  85,
    /* 0101.. */  95,  91,  90,  83,  84,  71,
    /* 0102.. */  92,  81,  82,  71,  72,  53,
    /* 0110.. */  95,  93,  92,  85,  85,  73,
    /* 0111.. */  92,  82,  80,  72,  70,  59,
    /* 0112.. */  84,  70,  71,  52,  50,  30,
    /* 0120.. */  NA,  86,  NA,  75,  NA,  52,
    /* 0121.. */  NA,  71,  NA,  52,  NA,  29,
    /* 0122.. */  NA,  63,  NA,  29,  NA,  17,
    /* 1000.. */  98,  95,  94,  87,  91,  81,
    /* 1001.. */  94,  89,  86,  74,  77,  64,
    /* 1002.. */  87,  75,  74,  63,  63,  49,
    /* 1010.. */  94,  89,  88,  77,  76,  67,
    /* 1011.. */  86,  76,  74,  58,  59,  50,
    /* 1012.. */  72,  57,  57,  52,  52,  25,
    /* 1020.. */  NA,  83,  NA,  70,  NA,  54,
    /* 1021.. */  NA,  65,  NA,  58,  NA,  26,
    /* 1022.. */  NA,  53,  NA,  21,  NA,  13,
    /* 1100.. */  95,  90,  88,  76,  76,  70,
    /* 1101.. */  90,  77,  75,  62,  61,  53,
    /* 1102.. */  77,  66,  68,  59,  52,  30,
    /* 1110.. */  89,  78,  76,  67,  62,  58,
    /* 1111.. */  74,  59,  57,  57,  47,  23,
    /* 1112.. */  61,  52,  57,  29,  24,  16,
    /* 1120.. */  NA,  71,  NA,  59,  NA,  30,
    /* 1121.. */  NA,  58,  NA,  26,  NA,  15,
    /* 1122.. */  NA,  23,  NA,  13,  NA,   6,
    /* 2000.. */  93,  87,  86,  72,  75,  58,
    /* 2001.. */  86,  74,  74,  61,  56,  34,
    /* 2002.. */  70,  54,  52,  40,  40,  22,
    /* 2010.. */  85,  75,  74,  55,  62,  51,
    /* 2011.. */  72,  57,  55,  41,  46,  19,
    /* 2012.. */  53,  36,  34,  19,  19,   8,
    /* 2020.. */  NA,  64,  NA,  51,  NA,  20,
    /* 2021.. */  NA,  47,  NA,  21,  NA,  11,
    /* 2022.. */  NA,  24,  NA,   9,  NA,   4,
    /* 2100.. */  88,  75,  73,  53,  60,  50,
    /* 2101.. */  73,  55,  59,  40,  41,  20,
    /* 2102.. */  54,  43,  45,  22,  20,  11,
    /* 2110.. */  75,  55,  58,  45,  40,  21,
    /* 2111.. */  61,  51,  48,  18,  20,   9,
    /* 2112.. */  46,  18,  17,   7,   8,   2,
    /* 2120.. */  NA,  53,  NA,  24,  NA,  14,
    /* 2121.. */  NA,  24,  NA,  12,  NA,   5,
    /* 2122.. */  NA,  10,  NA,   3,  NA,   1,];

/// The MacroVector score in tenths, `None` where the specification defines
/// none (including digits out of range).
pub(crate) fn macro_score(eq: [u8; 6]) -> Option<u8> {
    let [e1, e2, e3, e4, e5, e6] = eq.map(usize::from);
    if e1 > 2 || e2 > 1 || e3 > 2 || e4 > 2 || e5 > 2 || e6 > 1 {
        return None;
    }
    let i = ((((e1 * 2 + e2) * 3 + e3) * 3 + e4) * 3 + e5) * 2 + e6;
    SCORES.get(i).copied().filter(|&s| s != NA)
}

/// Highest-severity (AV, PR, UI) levels per EQ1 class.
pub(crate) static MAX_EQ1: [&[[u8; 3]]; 3] = [
    &[[0, 0, 0]],
    &[[1, 0, 0], [0, 1, 0], [0, 0, 1]],
    &[[3, 0, 0], [1, 1, 1]],
];

/// Highest-severity (AC, AT) levels per EQ2 class.
pub(crate) static MAX_EQ2: [&[[u8; 2]]; 2] = [&[[0, 0]], &[[1, 0], [0, 1]]];

/// Highest-severity (VC, VI, VA, CR, IR, AR) levels per EQ3 and EQ6 class
/// (`[eq3][eq6]`; EQ3 = 2 with EQ6 = 0 is empty).
pub(crate) static MAX_EQ3_EQ6: [[&[[u8; 6]]; 2]; 3] = [
    [
        &[[0, 0, 0, 0, 0, 0]],
        &[[0, 0, 1, 1, 1, 0], [0, 0, 0, 1, 1, 1]],
    ],
    [
        &[[1, 0, 0, 0, 0, 0], [0, 1, 0, 0, 0, 0]],
        &[
            [1, 0, 1, 0, 1, 0],
            [1, 0, 0, 0, 1, 1],
            [0, 1, 0, 1, 0, 1],
            [0, 1, 1, 1, 0, 0],
            [1, 1, 0, 0, 0, 1],
        ],
    ],
    [&[], &[[1, 1, 1, 0, 0, 0]]],
];

/// Highest-severity (SC, SI, SA) levels per EQ4 class.
pub(crate) static MAX_EQ4: [&[[u8; 3]]; 3] = [&[[1, 0, 0]], &[[1, 1, 1]], &[[2, 2, 2]]];

/// Depth of each EQ1 class in 0.1 steps.
pub(crate) const DEPTH_EQ1: [u8; 3] = [1, 4, 5];
/// Depth of each EQ2 class.
pub(crate) const DEPTH_EQ2: [u8; 2] = [1, 2];
/// Depth of each EQ3 × EQ6 class (`[eq3][eq6]`, 0 where undefined).
pub(crate) const DEPTH_EQ3_EQ6: [[u8; 2]; 3] = [[7, 6], [8, 8], [0, 10]];
/// Depth of each EQ4 class.
pub(crate) const DEPTH_EQ4: [u8; 3] = [6, 5, 4];
